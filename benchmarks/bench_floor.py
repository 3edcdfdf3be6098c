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
  3. the wire path: the six-node env stepped over the ns3-gym wire (`Ns3GymEnv` agent; the
     simulation is `timed_gym_sim.py`, gym-sim's env and `serve` with each env.step timed)
     against the simulation process's own env.step calls (the wire's cost alone, one pair of
     processes) and against the same env in a fresh process of its own (what a user sees,
     including how much one fresh process's C++ step differs from another's).

Clock: CPU time of this process (`time.process_time`, `CLOCK_PROCESS_CPUTIME_ID` in C++), not
wall time: on a shared, loaded machine wall time mostly measures the wait for a core, while CPU
time is what the simulation costs. The wire path (two processes) is timed in wall clock and CPU.

Routing: ns-3's global routing (tables built at start) below --nix-from nodes, Nix-vector routing
(routes found on first use) from there on; global routing takes ~100 s to build at 1000 nodes.

    .venv/bin/python benchmarks/bench_floor.py [--sizes 6 50 200 1000] [--sim-seconds 0.5]
        [--nix-from 1000] [--run-steps 100] [--wire-steps 100] [--wire-rounds 5]
        [--no-run-path] [--no-wire]
        [--compare-frames] [--scheduler ns3::CalendarScheduler] [--warmup-seconds 0.1]

Frames: links aggregate their frames (one ns-3 event per closed block, exact; see qkd-link.h);
--compare-frames also measures every size with one event per frame, in the same run, and the
events-by-kind table shows what the events are for at each size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
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
    frames: str = "aggregated"

    @property
    def ratio(self) -> float:
        return self.scenario_us_per_event / self.floor_us_per_event


def _kind_totals(ns: object, runtime: object) -> dict[str, float]:
    """Cumulative counts behind the events: the links' own events, frames, blocks, packets."""
    links, nodes = runtime.link_counters(), runtime.node_counters()

    def total(table: np.ndarray, fields: list[str], name: str) -> float:
        return float(table[:, fields.index(name)].sum())

    out, node_fields = runtime.output_fields, runtime.node_fields
    return {
        "events": float(ns.Simulator.GetEventCount()),
        "link events": float(ns.QkdLink.GetFrameEventCount()),
        "frames": total(links, out, "frames"),
        "blocks": total(links, out, "blocks_closed"),
        "pp messages": total(links, out, "pp_messages"),
        "relay shares": total(nodes, node_fields, "shares_originated")
        + total(nodes, node_fields, "shares_forwarded"),
    }


def measure_scenario(
    n: int,
    sim_seconds: float,
    routing: str,
    seed: int,
    aggregate_frames: bool = True,
    scheduler: str | None = None,
    warmup_seconds: float = 0.1,
) -> dict[str, float]:
    """Step the bench_network scenario; time inside ns-3 and events executed, per simulated s.

    `aggregate_frames` sets ns3::QkdLink::AggregateFrames (one event per closed block, or one
    per frame); `scheduler` names an ns-3 scheduler type (default: ns-3's map scheduler);
    `warmup_seconds` of simulated time run untimed first (the first step optimises every link
    and builds routes; a long warm-up reaches the steady state of 10-s timeouts). The
    "kinds" entry counts, per simulated second, the links' own events, the frames and blocks
    they stand for, the post-processing messages and relayed shares (each a packet whose hops
    are ns-3 events), and the remaining events (packets, timers)."""
    from bridge.ns3_runtime import load_ns
    from bridge.scenario import QkdScenario, load_plan
    from control.plane import ControlPlane

    ns = load_ns()
    step_s = 0.1
    config = scenario_for(n, "baseline", step_s, seed, routing)
    plan = load_plan(config)
    ns.Config.SetDefault("ns3::QkdLink::AggregateFrames", ns.BooleanValue(aggregate_frames))
    try:
        with QkdScenario(config, plan=plan) as sim:
            if scheduler is not None:
                ns.Simulator.SetScheduler(ns.ObjectFactory(scheduler))
            sim.attach_control(ControlPlane(config, plan, sim))
            return _time_steps(ns, sim, n, sim_seconds, warmup_seconds, step_s, len(plan.links))
    finally:
        ns.Config.SetDefault("ns3::QkdLink::AggregateFrames", ns.BooleanValue(True))


def _time_steps(
    ns: object,
    sim: object,
    n: int,
    sim_seconds: float,
    warmup_seconds: float,
    step_s: float,
    links: int,
) -> dict[str, float]:
    """The steady-state steps of measure_scenario, timed in CPU seconds."""
    for _ in tqdm(range(max(1, round(warmup_seconds / step_s))), desc="warm-up", leave=False):
        sim.step()
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
    before = _kind_totals(ns, runtime)
    started = time.process_time()
    for _ in tqdm(range(steps), desc=f"{n} nodes scenario", leave=False):
        sim.step()
    cpu = time.process_time() - started
    after = _kind_totals(ns, runtime)
    sim_s = steps * step_s
    kinds = {k: (after[k] - before[k]) / sim_s for k in before}
    kinds["other events"] = kinds["events"] - kinds["link events"]
    events = after["events"] - before["events"]
    return {
        "links": links,
        "us_per_event": inner[0] / events * 1e6,
        "events_per_sim_s": events / sim_s,
        "cpu_per_sim_s": cpu / sim_s,
        "ns3_share": inner[0] / cpu,
        "kinds": kinds,
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


def _in_process_env_ms(steps: int, warmup: int, seed: int) -> tuple[float, float]:
    """Six-node env (baseline control) stepped in this process: (wall, CPU) ms per step.

    Run in a fresh process (see `measure_wire_path`), as the wire's simulation process is.
    """
    from bench_bridge import _config

    from bridge.env import QkdNetworkEnv

    env = QkdNetworkEnv(_config(SIX_NODE, steps + warmup + 1, "baseline"))
    try:
        env.reset(seed=seed)
        for _ in range(warmup):
            env.step(0)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            env.step(0)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        env.close()
    return wall * 1e3 / steps, cpu * 1e3 / steps


def _wire_env_ms(steps: int, warmup: int, seed: int) -> dict[str, float]:
    """The same env over the ns3-gym wire, served by `timed_gym_sim.py` (gym-sim's env and
    `serve`, with each `env.step` timed inside the simulation process); `warmup` >= 1.

    Returns ms per step: wall and CPU (agent + simulation process) of the wire, and
    the wall and CPU of the simulation process's own `env.step` calls in the same window.
    """
    from bench_bridge import _config

    from bridge.ns3gym import Ns3GymEnv

    config = _config(SIX_NODE, steps + warmup + 1, "baseline")
    with tempfile.TemporaryDirectory() as tmp:
        path, report = Path(tmp) / "scenario.yaml", Path(tmp) / "steps.json"
        path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
        helper = Path(__file__).with_name("timed_gym_sim.py")
        command = [sys.executable, str(helper), "--scenario", str(path), "--report", str(report)]
        wire_env = Ns3GymEnv(sim_cmd=command, seed=seed, timeout_s=600.0)
        try:
            wire_env.reset(seed=seed)
            for _ in range(warmup):
                wire_env.step(0)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(steps):
                wire_env.step(0)
            wall = time.perf_counter() - wall0
            agent_cpu = time.process_time() - cpu0
        finally:
            wire_env.close()
        timed = json.loads(report.read_text())
    window = slice(warmup, warmup + steps)
    # the simulation process's CPU from the end of the last warm-up step to the end of the last
    # timed one: `steps` times (serve loop + env.step), as the agent's window holds
    sim_cpu = timed["cpu_after_s"][warmup + steps - 1] - timed["cpu_after_s"][warmup - 1]
    per = 1e3 / steps
    return {
        "wall_ms": wall * per,
        "cpu_ms": (agent_cpu + sim_cpu) * per,
        "env_step_wall_ms": sum(timed["wall_s"][window]) * per,
        "env_step_cpu_ms": sum(timed["cpu_s"][window]) * per,
    }


def measure_wire_path(
    steps: int, warmup: int, seed: int, rounds: int
) -> dict[str, tuple[float, float, float]]:
    """Six-node env (baseline control): what the ns3-gym wire costs over the env it serves.

    Two comparisons, round after round (medians over the rounds, ranges printed beside them):
    - **same process pair**: the wire's wall (CPU: agent + simulation process) per step against
      the simulation process's own `env.step` calls in the same window. The difference is the
      wire's cost alone (agent, ZMQ, protobuf, JSON info, the server loop, the waits between
      the two processes), free of how fast this process's C++ step happens to run;
    - **fresh processes**: against the same env stepped in a fresh process of its own (not this
      one, whose heap the large scenarios above have shaped). This is what a user sees, and it
      includes the ±10 % by which the same C++ step varies from one fresh process to the next.
    """
    # >= 1: the wire's window starts at the end of a warm-up step (`_wire_env_ms`); both sides
    # warm up alike
    warmup = max(1, warmup)
    spawn = multiprocessing.get_context("spawn")
    local, wire = [], []
    for _ in range(rounds):
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            local.append(pool.submit(_in_process_env_ms, steps, warmup, seed).result())
        wire.append(_wire_env_ms(steps, warmup, seed))

    def summary(values: list[float]) -> tuple[float, float, float]:
        return float(np.median(values)), min(values), max(values)

    return {
        "in_process_ms": summary([loc[0] for loc in local]),
        "in_process_cpu_ms": summary([loc[1] for loc in local]),
        "wire_ms": summary([w["wall_ms"] for w in wire]),
        "wire_cpu_ms": summary([w["cpu_ms"] for w in wire]),
        "env_step_cpu_ms": summary([w["env_step_cpu_ms"] for w in wire]),
        "same_pair_wall": summary([w["wall_ms"] / w["env_step_wall_ms"] for w in wire]),
        "same_pair_cpu": summary([w["cpu_ms"] / w["env_step_cpu_ms"] for w in wire]),
        "wire_own_cpu_ms": summary([w["cpu_ms"] - w["env_step_cpu_ms"] for w in wire]),
        "fresh_wall": summary([w["wall_ms"] / loc[0] for w, loc in zip(wire, local, strict=True)]),
        "fresh_cpu": summary([w["cpu_ms"] / loc[1] for w, loc in zip(wire, local, strict=True)]),
    }


def print_kinds(kinds: list[tuple[int, str, dict[str, float]]]) -> None:
    """Events by kind per simulated second (what the events are for), one row per measurement."""
    if not kinds:
        return
    names = ["events", "link events", "frames", "blocks", "pp messages", "relay shares"]
    print("   events by kind per simulated second (link events: the links' own; the rest are")
    print("   packets (post-processing, relay, control) and timers, as ns-3 events)")
    print(
        f"{'nodes':>5} {'frames':>10} "
        + " ".join(f"{name:>12}" for name in names)
        + f" {'other ev.':>12} {'events/node':>11}"
    )
    for n, frames, k in kinds:
        print(
            f"{n:>5} {frames:>10} "
            + " ".join(f"{k[name]:>12.0f}" for name in names)
            + f" {k['other events']:>12.0f} {k['events'] / n:>11.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 50, 200, 1000])
    parser.add_argument("--sim-seconds", type=float, default=0.5)
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=0.1,
        help="simulated seconds run untimed before each scenario's timed window",
    )
    parser.add_argument("--nix-from", type=int, default=1000, help="Nix-vector routing from here")
    parser.add_argument("--run-steps", type=int, default=101)
    parser.add_argument("--wire-steps", type=int, default=100)
    parser.add_argument(
        "--wire-rounds", type=int, default=5, help="fresh-process pairs for the wire ratio"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-run-path", action="store_true")
    parser.add_argument("--no-wire", action="store_true")
    parser.add_argument(
        "--compare-frames",
        action="store_true",
        help="measure every size with one event per frame too (AggregateFrames off), same run",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="ns-3 scheduler type for the scenario, e.g. ns3::CalendarScheduler (default: map); "
        "not ns3::HeapScheduler: its Remove only sifts down and loses the heap order, and the "
        "model removes finished timeouts",
    )
    args = parser.parse_args()
    if any(n < 6 for n in args.sizes) or args.sim_seconds <= 0 or args.warmup_seconds < 0:
        parser.error("sizes must be >= 6 nodes, --sim-seconds > 0 and --warmup-seconds >= 0")
    if args.wire_rounds < 1 or args.wire_steps < 1:
        parser.error("--wire-rounds and --wire-steps must be >= 1")

    print("1. CPU cost per ns-3 event: scenario step vs plain UDP chain, same process, same run")
    print(
        f"{'nodes':>5} {'links':>5} {'routing':>10} {'frames':>10} {'us/event':>9} "
        f"{'UDP floor':>9} {'x floor':>7} {'events/sim s':>12} {'CPU s/sim s':>12} {'in ns-3':>7}",
        flush=True,
    )
    rows: list[SizeRow] = []
    kinds: list[tuple[int, str, dict[str, float]]] = []
    modes = [False, True] if args.compare_frames else [True]
    for n in args.sizes:  # each row printed when measured: a long run shows what it has
        nix = n >= args.nix_from
        routing = "nix-vector" if nix else "global"
        for aggregate in modes:
            s = measure_scenario(
                n,
                args.sim_seconds,
                routing,
                args.seed,
                aggregate,
                args.scheduler,
                args.warmup_seconds,
            )
            floor = measure_udp_chain(n, s["events_per_sim_s"], args.sim_seconds, nix)
            frames = "aggregated" if aggregate else "per-frame"
            r = SizeRow(
                n,
                int(s["links"]),
                routing,
                s["us_per_event"],
                floor,
                s["events_per_sim_s"],
                s["cpu_per_sim_s"],
                s["ns3_share"],
                frames,
            )
            rows.append(r)
            kinds.append((n, frames, s["kinds"]))
            print(
                f"{r.nodes:>5} {r.links:>5} {r.routing:>10} {r.frames:>10} "
                f"{r.scenario_us_per_event:>9.2f} {r.floor_us_per_event:>9.2f} {r.ratio:>7.2f} "
                f"{r.events_per_sim_s:>12.0f} {r.cpu_per_sim_s:>12.3f} {r.ns3_share:>7.0%}",
                flush=True,
            )
    for aggregate in modes:
        frames = "aggregated" if aggregate else "per-frame"
        big = [r for r in rows if r.nodes >= 50 and r.frames == frames]
        if len(big) > 1:
            slope = np.polyfit(
                np.log([r.nodes for r in big]), np.log([r.cpu_per_sim_s for r in big]), 1
            )[0]
            print(
                f"CPU time per simulated second grows as nodes^{slope:.2f} from 50 nodes up "
                f"({frames} frames)"
            )
    print_kinds(kinds)
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
    wire = (
        None
        if args.no_wire
        else measure_wire_path(args.wire_steps, 10, args.seed, args.wire_rounds)
    )
    if wire is not None:

        def ratio(key: str) -> str:
            median, low, high = wire[key]
            return f"x{median:.2f} ({low:.2f}-{high:.2f})"

        print(
            f"3. wire path (six-node env, baseline, {args.wire_steps} steps, medians of "
            f"{args.wire_rounds} rounds; ranges in brackets): over the wire "
            f"{wire['wire_ms'][0]:.1f} ms/step wall, {wire['wire_cpu_ms'][0]:.1f} ms CPU "
            f"(agent + simulation process)\n"
            f"   against the simulation's own env.step ({wire['env_step_cpu_ms'][0]:.1f} ms CPU), "
            f"same processes: {ratio('same_pair_wall')} wall, {ratio('same_pair_cpu')} CPU; "
            f"the wire's own CPU {wire['wire_own_cpu_ms'][0]:.2f} ms/step\n"
            f"   against the env in a fresh process of its own "
            f"({wire['in_process_ms'][0]:.1f} ms/step wall, {wire['in_process_cpu_ms'][0]:.1f} "
            f"ms CPU): {ratio('fresh_wall')} wall, {ratio('fresh_cpu')} CPU"
        )


if __name__ == "__main__":
    main()
