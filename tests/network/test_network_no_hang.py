"""Step boundaries and consensus deadlines are whole nanoseconds: no run can stall on them.

The bug this guards against (issue "ABFT at network scale"): the consensus deadline was
`now + dt - 1e-6` in float seconds, e.g. 0.29999900000000007 s, which ns-3 (integer ns) can
never reach, so the transport's loop spun forever with simulated time frozen. Each test runs in a
subprocess with a wall-clock limit, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.ns3

WALK = textwrap.dedent(
    """
    import sys
    from bridge.scenario import QkdScenario
    from bridge.scenario.config import parse_scenario
    from control.plane import ControlPlane

    n, steps, step_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    topology = "secoqc-vienna" if n == 6 else f"waxman:n={n},seed=3,side_km=100"
    config = parse_scenario({
        "topology": topology, "seed": 3, "step_s": step_s, "steps": steps,
        "link": {"frame_pulses": 1000000, "block_size_bits": 20000},
        "classical": {"routing": "nix-vector"},
        "demands": [{"src": 0, "dst": n - 1, "rate_bps": 5000}],
        "byzantine": {"fraction": 0.2, "exclude_demand_ends": True},
        "control": {"mode": "abft"},
    }, source="no-hang")
    with QkdScenario(config) as sim:
        sim.attach_control(ControlPlane(config, sim.plan, sim))
        start = int(sim.runtime.network.GetNowNs())
        for _ in range(steps):
            sim.step()
        now = int(sim.runtime.network.GetNowNs())
    step_ns = round(step_s * 1e9)
    assert now - start == steps * step_ns, (now - start, steps * step_ns)
    print("walked", steps, "boundaries to", now)
    """
)


def walk(n: int, steps: int, step_s: float, timeout_s: float) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WALK, str(n), str(steps), str(step_s)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"walked {steps} boundaries" in done.stdout


@pytest.mark.parametrize("step_s", [0.3, 0.0333333337])
def test_six_nodes_walk_step_boundaries_that_floats_cannot_reach(step_s):
    # 0.3 gives boundaries like 0.29999900000000007 s in float arithmetic; the other is not a
    # whole number of ns at all and is rounded once, identically for every step.
    walk(6, 25, step_s, timeout_s=300)


@pytest.mark.slow
def test_fifty_nodes_walk_forty_step_boundaries():
    walk(50, 40, 0.1, timeout_s=1800)


def test_the_transport_returns_at_a_deadline_between_two_ticks():
    code = textwrap.dedent(
        """
        from bridge.abft_transport import Ns3Transport
        from bridge.scenario import QkdScenario
        from bridge.scenario.config import parse_scenario

        config = parse_scenario({"topology": "secoqc-vienna", "steps": 1}, source="t")
        with QkdScenario(config) as sim:
            transport = Ns3Transport(sim.runtime.network, [0, 1])
            transport.run_until(0.29999900000000007)  # not a whole number of ns
            assert int(sim.runtime.network.GetNowNs()) == 299999000
            transport.run_until_ns(299999000)  # already there: returns at once
            print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]
