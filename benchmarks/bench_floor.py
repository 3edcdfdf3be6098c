"""How close a qkdnet step runs to ns-3's own floor, as ratios measured in one run.

Three comparisons, each between two things timed in this process (or its child) in this run, so
the load of a shared machine hits both sides alike:

  1. cost per ns-3 event: a scenario step (the bench_network scenario: Waxman graph, n/5 demands,
     10 % Byzantine nodes, post-processing as packets, "no ABFT" baseline control) against a
     plain ns-3 UDP chain of the same number of nodes (point-to-point 1 Gbit/s links, every node
     sending 100-byte UDP datagrams to its neighbour, same IP routing), both counted with
     `Simulator::GetEventCount()`. Only the time inside ns-3 (`Step`) is divided by the events;
     CPU seconds per simulated second of the whole step are printed beside it, with the exponent
     of their growth over the sizes from 50 nodes up;
  2. the run path: six-node `qkdnet run --control baseline` (physics, control plane, Parquet
     metrics), milliseconds per step spent outside ns-3, and the link physics alone (fibre drift
     moving every link's loss every step) at 8 links and at the bench sizes' link counts;
  3. the wire path: the six-node env stepped over the ns3-gym wire (`Ns3GymEnv` agent,
     `python -m bridge.ns3gym` simulation) against the same env in process.

Clock: CPU time of this process (`time.process_time`, `CLOCK_PROCESS_CPUTIME_ID` in C++), not
wall time: on a shared, loaded machine wall time mostly measures the wait for a core, while CPU
time is what the simulation costs. The wire path (two processes) is timed in wall clock.

Routing: ns-3's global routing (tables built at start) below --nix-from nodes, Nix-vector routing
(routes found on first use) from there on; global routing takes ~100 s to build at 1000 nodes.

    .venv/bin/python benchmarks/bench_floor.py [--sizes 6 50 200 1000] [--sim-seconds 0.5]
        [--nix-from 1000] [--run-steps 100] [--wire-steps 100] [--no-run-path] [--no-wire]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_network import scenario_for  # noqa: E402

SIX_NODE = Path(__file__).resolve().parents[1] / "experiments" / "configs" / "six-node.yaml"

_UDP_CHAIN_CPP = r"""
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/nix-vector-helper.h"
#include "ns3/point-to-point-module.h"

#include <ctime>

namespace qkdnet_bench
{
double
CpuSeconds()
{
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/** A chain of n nodes; every node sends UDP datagrams to its right-hand neighbour (the last to its
 * left-hand one). Returns {events executed, CPU seconds} of running `simS` simulated seconds. */
std::vector<double>
RunUdpChain(uint32_t n, double simS, double intervalS, bool nix)
{
    using namespace ns3;
    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(1);
    NodeContainer nodes;
    nodes.Create(n);
    InternetStackHelper internet;
    Ipv4NixVectorHelper nixRouting;
    if (nix)
    {
        internet.SetRoutingHelper(nixRouting);
    }
    internet.Install(nodes);
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
    p2p.SetChannelAttribute("Delay", TimeValue(MicroSeconds(50)));
    Ipv4AddressHelper addresses;
    addresses.SetBase("10.0.0.0", "255.255.255.252");
    std::vector<Ipv4InterfaceContainer> ifs;
    for (uint32_t i = 0; i + 1 < n; ++i)
    {
        ifs.push_back(addresses.Assign(p2p.Install(nodes.Get(i), nodes.Get(i + 1))));
        addresses.NewNetwork();
    }
    if (!nix)
    {
        Ipv4GlobalRoutingHelper::PopulateRoutingTables();
    }
    UdpServerHelper server(9);
    server.Install(nodes).Start(Seconds(0));
    for (uint32_t i = 0; i < n; ++i)
    {
        const Ipv4Address to = i + 1 < n ? ifs[i].GetAddress(1) : ifs[i - 1].GetAddress(0);
        UdpClientHelper client(to, 9);
        client.SetAttribute("MaxPackets", UintegerValue(0));
        client.SetAttribute("Interval", TimeValue(Seconds(intervalS)));
        client.SetAttribute("PacketSize", UintegerValue(100));
        ApplicationContainer app = client.Install(nodes.Get(i));
        app.Start(Seconds(1e-3 * i / n));
    }
    Simulator::Stop(Seconds(1e-3)); // set-up events (interfaces, first sends) are not timed
    Simulator::Run();
    const uint64_t before = Simulator::GetEventCount();
    const double start = CpuSeconds();
    Simulator::Stop(Seconds(simS));
    Simulator::Run();
    const double cpu = CpuSeconds() - start;
    const double events = static_cast<double>(Simulator::GetEventCount() - before);
    Simulator::Destroy();
    return {events, cpu};
}
} // namespace qkdnet_bench
"""


@dataclass
class SizeRow:
    nodes: int
    links: int
    routing: str
    scenario_us_per_event: float
    floor_us_per_event: float
    events_per_sim_s: float
    cpu_per_sim_s: float
    ns3_share: float

    @property
    def ratio(self) -> float:
        return self.scenario_us_per_event / self.floor_us_per_event


def measure_scenario(n: int, sim_seconds: float, routing: str, seed: int) -> dict[str, float]:
    """Step the bench_network scenario; time inside ns-3 and events executed, per simulated s."""
    from bridge.ns3_runtime import load_ns
    from bridge.scenario import QkdScenario, load_plan
    from control.plane import ControlPlane

    ns = load_ns()
    step_s = 0.1
    config = scenario_for(n, "baseline", step_s, seed, routing)
    plan = load_plan(config)
    with QkdScenario(config, plan=plan) as sim:
        sim.attach_control(ControlPlane(config, plan, sim))
        sim.step()  # the first step optimises every link once and builds routes: not steady
        runtime = sim.runtime
        inner = [0.0]
        plain_step = runtime.step

        def timed_step(dt_s: float) -> np.ndarray:
            t0 = time.process_time()
            out = plain_step(dt_s)
            inner[0] += time.process_time() - t0
            return out

        runtime.step = timed_step
        steps = max(1, round(sim_seconds / step_s))
        events0 = int(ns.Simulator.GetEventCount())
        started = time.process_time()
        for _ in tqdm(range(steps), desc=f"{n} nodes scenario", leave=False):
            sim.step()
        cpu = time.process_time() - started
        events = int(ns.Simulator.GetEventCount()) - events0
    return {
        "links": len(plan.links),
        "us_per_event": inner[0] / events * 1e6,
        "events_per_sim_s": events / (steps * step_s),
        "cpu_per_sim_s": cpu / (steps * step_s),
        "ns3_share": inner[0] / cpu,
    }


def measure_udp_chain(n: int, events_per_sim_s: float, sim_seconds: float, nix: bool) -> float:
    """µs per event of a UDP chain of n nodes at about the scenario's event density."""
    import cppyy

    from bridge.ns3_runtime import load_ns

    load_ns(("applications",))
    if not hasattr(cppyy.gbl, "qkdnet_bench"):
        cppyy.cppdef(_UDP_CHAIN_CPP)
    # ~ 9 events per datagram over one hop (send, queue, transmit, receive, deliver, ...)
    interval_s = max(1e-6, 9.0 * n / max(events_per_sim_s, 1.0))
    events, cpu = cppyy.gbl.qkdnet_bench.RunUdpChain(n, sim_seconds, interval_s, nix)
    return cpu / events * 1e6


class _TimedNetwork:
    """A QkdNetwork whose C++ `Step` is timed (CPU): the time inside ns-3 is that call only,
    so everything Python does around it (the runtime's checks, input bookkeeping) counts as
    outside. Every other call passes through (its small forwarding cost counts outside too)."""

    def __init__(self, network: object, clock: list[float]) -> None:
        self._network = network
        self._clock = clock

    def __getattr__(self, name: str) -> object:
        return getattr(self._network, name)

    def Step(self, *args: object) -> None:  # noqa: N802 - the C++ name
        started = time.process_time()
        try:
            self._network.Step(*args)
        finally:
            self._clock[0] += time.process_time() - started


def measure_run_path(steps: int) -> dict[str, float]:
    """Six-node `qkdnet run --control baseline`: ms per step in total and outside ns-3.

    Timed from the end of the first step to the end of the last (steady state: set-up, the
    first step and the closing summary are not per-step costs); recording is included. Inside
    ns-3 is the C++ `QkdNetwork::Step` call (`_TimedNetwork`): the event loop plus applying
    the link inputs and copying the counters out, which `ns3_step_overhead_us` bounds.
    """
    from bridge.scenario.config import load_scenario
    from bridge.scenario.runtime import NetworkRuntime
    from experiments.run import run_scenario

    config = load_scenario(SIX_NODE, steps=steps)
    config = config.model_copy(
        update={"control": config.control.model_copy(update={"mode": "baseline"})}
    )
    inner = [0.0]
    marks: list[tuple[float, float]] = []  # (CPU time, CPU time inside ns-3) after each step
    plain_init = NetworkRuntime.__init__

    def timed_init(self: NetworkRuntime, network: object, seed: int) -> None:
        plain_init(self, network, seed)
        self.network = _TimedNetwork(self.network, inner)

    def on_step(result: object) -> None:
        marks.append((time.process_time(), inner[0]))

    NetworkRuntime.__init__ = timed_init  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run_scenario(config, Path(tmp) / "run", progress=False, on_step=on_step)
    finally:
        NetworkRuntime.__init__ = plain_init  # type: ignore[method-assign]
    cpu = marks[-1][0] - marks[0][0]
    ns3 = marks[-1][1] - marks[0][1]
    n = len(marks) - 1
    return {
        "ms_per_step": cpu / n * 1e3,
        "outside_ns3_ms": (cpu - ns3) / n * 1e3,
        "ns3_step_overhead_us": ns3_step_overhead_us(config),
    }


def ns3_step_overhead_us(config: object, calls: int = 2000) -> float:
    """CPU µs of the part of a C++ `Step` that is not the event loop, bounded from above:
    applying unchanged link inputs (`SetLinkInputs`) plus copying every counter out
    (`CollectOutputs`), each called from Python (so the binding's cost is in too), on the
    scenario after a few steps. The per-link report update `Step` also does is not callable
    alone; it is a loop over the links like `CollectOutputs`."""
    from bridge.scenario import QkdScenario

    with QkdScenario(config) as sim:
        for _ in range(3):
            sim.step()
        rt = sim.runtime
        started = time.process_time()
        for _ in range(calls):
            rt.network.SetLinkInputs(rt.inputs, rt.inputs.size)
            rt.network.CollectOutputs(rt.outputs, rt.outputs.size)
        return (time.process_time() - started) / calls * 1e6


def measure_physics(sizes: list[int], seed: int, steps: int = 64) -> list[tuple[int, float, float]]:
    """(links, CPU ms per step as the run does it, CPU ms per step one step at a time) of
    LinkPhysics.advance + operating_points with drifting fibres: the six-node scenario's 8
    links, then the bench scenario of each size with its drift. "As the run does it" samples the
    drift `LinkPhysics.lookahead_steps` ahead and evaluates those steps in one call (the cost of
    that call is spread over its steps); "one at a time" is `lookahead_steps = 1`."""
    from bridge.scenario import load_plan
    from bridge.scenario.config import load_scenario
    from bridge.scenario.link_physics import LinkPhysics

    six = load_scenario(SIX_NODE)
    configs = [six]
    for n in sizes:
        if n > 6:
            config = scenario_for(n, "baseline", 0.1, seed, "global")
            link = config.link.model_copy(update={"drift": six.link.drift})
            configs.append(config.model_copy(update={"link": link}))
    rows = []
    for config in configs:
        plan = load_plan(config)
        timed = []
        for lookahead in (LinkPhysics.lookahead_steps, 1):
            physics = LinkPhysics(plan, seed=seed)
            physics.lookahead_steps = lookahead
            attack = np.zeros(len(plan.links))
            physics.operating_points(attack)  # the first step builds the tables: not per step
            physics.advance(config.step_s)
            started = time.process_time()
            for _ in range(steps):
                physics.operating_points(attack)
                physics.advance(config.step_s)
            timed.append((time.process_time() - started) / steps * 1e3)
        rows.append((len(plan.links), timed[0], timed[1]))
    return rows


def _process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_wire_path(steps: int, warmup: int, seed: int) -> dict[str, float]:
    """Six-node env (baseline control), ms per step in process and over the ns3-gym wire.

    Wall clock and CPU time; over the wire the CPU time is the agent's plus the simulation
    process's (read from /proc), so the ratio holds on a loaded machine too.
    """
    from bench_bridge import _config

    from bridge.env import QkdNetworkEnv
    from bridge.ns3gym import Ns3GymEnv

    config = _config(SIX_NODE, steps + warmup + 1, "baseline")
    env = QkdNetworkEnv(config)
    try:
        env.reset(seed=seed)
        for _ in range(warmup):
            env.step(0)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            env.step(0)
        local_wall = time.perf_counter() - wall0
        local_cpu = time.process_time() - cpu0
    finally:
        env.close()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
        wire_env = Ns3GymEnv(scenario=path, seed=seed, timeout_s=600.0)
        try:
            wire_env.reset(seed=seed)
            for _ in range(warmup):
                wire_env.step(0)
            pid = wire_env.sim_pid
            wall0, cpu0, sim0 = time.perf_counter(), time.process_time(), _process_cpu_s(pid)
            for _ in range(steps):
                wire_env.step(0)
            wire_wall = time.perf_counter() - wall0
            wire_cpu = time.process_time() - cpu0 + _process_cpu_s(pid) - sim0
        finally:
            wire_env.close()
    per = 1e3 / steps
    return {
        "in_process_ms": local_wall * per,
        "wire_ms": wire_wall * per,
        "in_process_cpu_ms": local_cpu * per,
        "wire_cpu_ms": wire_cpu * per,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 50, 200, 1000])
    parser.add_argument("--sim-seconds", type=float, default=0.5)
    parser.add_argument("--nix-from", type=int, default=1000, help="Nix-vector routing from here")
    parser.add_argument("--run-steps", type=int, default=101)
    parser.add_argument("--wire-steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-run-path", action="store_true")
    parser.add_argument("--no-wire", action="store_true")
    args = parser.parse_args()
    if any(n < 6 for n in args.sizes) or args.sim_seconds <= 0:
        parser.error("sizes must be >= 6 nodes and --sim-seconds > 0")

    print("1. CPU cost per ns-3 event: scenario step vs plain UDP chain, same process, same run")
    print(
        f"{'nodes':>5} {'links':>5} {'routing':>10} {'us/event':>9} {'UDP floor':>9} "
        f"{'x floor':>7} {'events/sim s':>12} {'CPU s/sim s':>12} {'in ns-3':>7}",
        flush=True,
    )
    rows: list[SizeRow] = []
    for n in args.sizes:  # each row printed when measured: a long run shows what it has
        nix = n >= args.nix_from
        routing = "nix-vector" if nix else "global"
        s = measure_scenario(n, args.sim_seconds, routing, args.seed)
        floor = measure_udp_chain(n, s["events_per_sim_s"], args.sim_seconds, nix)
        r = SizeRow(
            n,
            int(s["links"]),
            routing,
            s["us_per_event"],
            floor,
            s["events_per_sim_s"],
            s["cpu_per_sim_s"],
            s["ns3_share"],
        )
        rows.append(r)
        print(
            f"{r.nodes:>5} {r.links:>5} {r.routing:>10} {r.scenario_us_per_event:>9.2f} "
            f"{r.floor_us_per_event:>9.2f} {r.ratio:>7.2f} {r.events_per_sim_s:>12.0f} "
            f"{r.cpu_per_sim_s:>12.3f} {r.ns3_share:>7.0%}",
            flush=True,
        )
    big = [r for r in rows if r.nodes >= 50]
    if len(big) > 1:
        slope = np.polyfit(
            np.log([r.nodes for r in big]), np.log([r.cpu_per_sim_s for r in big]), 1
        )[0]
        print(f"CPU time per simulated second grows as nodes^{slope:.2f} from 50 nodes up")
    run = None if args.no_run_path else measure_run_path(args.run_steps)
    physics = None if args.no_run_path else measure_physics(args.sizes, args.seed)
    if run is not None:
        print(
            f"2. run path (six-node, baseline, {args.run_steps} steps): "
            f"{run['ms_per_step']:.1f} ms CPU/step, "
            f"{run['outside_ns3_ms']:.2f} ms CPU/step outside ns-3 (inside: the C++ Step "
            f"call, of which applying inputs + copying counters out <= "
            f"{run['ns3_step_overhead_us']:.0f} us)"
        )
    if physics is not None:
        text = ", ".join(f"{links} links {ms:.3f} ms ({one:.2f})" for links, ms, one in physics)
        print(
            "   link physics per step (drifting fibre, CPU; in brackets one step at a time): "
            + text,
            flush=True,
        )
    wire = None if args.no_wire else measure_wire_path(args.wire_steps, 10, args.seed)
    if wire is not None:
        print(
            f"3. wire path (six-node env, baseline, {args.wire_steps} steps): in process "
            f"{wire['in_process_ms']:.1f} ms/step wall, {wire['in_process_cpu_ms']:.1f} ms CPU; "
            f"over the wire {wire['wire_ms']:.1f} ms/step wall, {wire['wire_cpu_ms']:.1f} ms CPU "
            f"(both processes); x{wire['wire_ms'] / wire['in_process_ms']:.2f} wall, "
            f"x{wire['wire_cpu_ms'] / wire['in_process_cpu_ms']:.2f} CPU"
        )


if __name__ == "__main__":
    main()
