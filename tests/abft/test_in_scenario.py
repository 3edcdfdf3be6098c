"""The coordinator deciding trust inside a running ns-3 QKD network (four trusted nodes, a ring).

Each step ns-3 samples the links' frames; the measured QBER (error bits over sifted bits, the
public outcome of error estimation) and buffer levels become the nodes' reports; one node lies;
one link is eavesdropped (its QBER set far above the physics expectation). The ABFT messages
here travel on the in-memory transport: carrying them as ns-3 packets is the bridge's transport.
"""

from __future__ import annotations

import numpy as np
import pytest

from control.abft.byzantine import FalseReport
from control.abft.coordinator import AbftConfig, AbftCoordinator, honest_reports
from control.abft.ledger import MeasuredInputs

pytestmark = pytest.mark.ns3

N_NODES = 4
EXPECTED_QBER = 0.02
EAVESDROPPED_LINK = 2  # joins nodes 2 and 3


def test_consensus_runs_inside_a_running_ns3_scenario():
    from bridge.ns3_runtime import load_ns
    from bridge.scenario.runtime import NetworkRuntime

    ns = load_ns()
    net = ns.QkdNetwork()
    net.SetLinkConfig(1_000_000, 100_000, 0.11)
    net.SetBufferConfig(100_000_000, 0, 1_000_000, 0)
    nodes = [net.AddTrustedNode() for _ in range(N_NODES)]
    links = tuple((nodes[i], nodes[(i + 1) % N_NODES]) for i in range(N_NODES))
    for a, b in links:
        net.AddLink(a, b, 25.0, -1)
    config = AbftConfig(n_nodes=N_NODES, link_endpoints=links, seed=1)
    coordinator = AbftCoordinator(config, byzantine={3: FalseReport(bias=0.1)})
    with NetworkRuntime(net, seed=1) as runtime:
        inputs = {"gain": 2e-3, "qber": EXPECTED_QBER, "sifting_ratio": 0.5}
        inputs |= {"secret_fraction": 0.4, "pulse_rate_hz": 1e9}
        for field, value in inputs.items():
            runtime.set_link_input(slice(None), field, value)
        runtime.set_link_input(EAVESDROPPED_LINK, "qber", 0.2)
        runtime.apply_inputs()
        column = runtime.output_fields.index
        previous = runtime.link_counters().copy()
        observers = np.zeros((N_NODES, len(links)), dtype=bool)
        for k, (a, b) in enumerate(links):
            observers[a, k] = observers[b, k] = True  # endpoints only, as in a real network
        decisions = []
        for step in range(8):
            runtime.step(0.1)
            now = runtime.link_counters().copy()
            delta = now - previous
            previous = now
            qber = delta[:, column("error_bits")] / delta[:, column("sifted_bits")]
            buffers = now[:, column("buffer_a_bits")]
            reports = honest_reports(
                step,
                {"qber": qber, "buffer_bits": buffers},
                observers,
                trust_qber_max=0.11,
            )
            measured = MeasuredInputs(
                qber, np.full(len(links), EXPECTED_QBER), np.full(len(links), 0.11)
            )
            decisions.append(coordinator.run_step(step, reports, measured))
    # link 2 is eavesdropped; link 3 joins the liar (node 3, voting against good links) to node 0
    expected_trust = np.array([True, True, False, False])
    for d in decisions:
        assert d.decided and d.stats.honest_disagreements == 0 and d.stats.messages > 0
        np.testing.assert_array_equal(d.trusted, expected_trust)
        assert d.agreed["qber"][EAVESDROPPED_LINK] > 0.15
    liar = [d.weights[3] for d in decisions]
    assert all(b < a for a, b in zip(liar, liar[1:], strict=False))
    np.testing.assert_array_equal(decisions[-1].weights[:3], 1.0)
