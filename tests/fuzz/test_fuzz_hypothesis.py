"""Hypothesis-generated scenario dicts: whatever validation accepts runs one step in ns-3 without a
native crash (issue 14); whatever it refuses is one line naming the source and the field.

Values are drawn from the places where bugs live: zero, negatives, subnormals, 1e-12, 1e300,
NaN, infinity, integers past uint64, and ordinary values. A native crash (SIGFPE, NS_FATAL) here
takes the whole pytest process down, which is as loud a failure as there is.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from bridge.scenario.config import ScenarioConfig, ScenarioError, parse_scenario

pytestmark = pytest.mark.ns3
SOURCE = "fuzz.yaml"

EDGE_FLOATS = [0.0, -0.0, -1.0, 1e-300, 1e-12, 1e-9, 1e-6, 0.5, 1.0, 1e6, 1e12, 1e300]
EDGE_INTS = [0, -1, 1, 2, 64, 65, 2**32, 2**53 + 1, 2**63, 2**64 + 1, 10**30]


def numbers(low: float, high: float) -> st.SearchStrategy:
    """Mostly values near the field's useful range (three branches of six), sometimes the nasty
    ones, so that a good share of the drawn scenarios pass validation and really step."""
    useful = st.floats(low, high)
    return st.one_of(
        useful,
        useful,
        useful,
        st.sampled_from(EDGE_FLOATS),
        st.sampled_from([math.inf, -math.inf, math.nan]),
        st.sampled_from(EDGE_INTS),
    )


def integers(low: int, high: int) -> st.SearchStrategy:
    useful = st.integers(low, high)
    return st.one_of(
        useful, useful, useful, st.sampled_from(EDGE_INTS), st.sampled_from(EDGE_FLOATS)
    )


def section(**fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional=fields)


SCENARIOS = st.fixed_dictionaries(
    {"name": st.just("fuzz"), "topology": st.just("secoqc-vienna"), "steps": st.just(1)},
    optional={
        "seed": integers(0, 1000),
        "step_s": numbers(1e-4, 0.2),
        "demand_interval_s": numbers(1e-3, 1.0),
        "link": section(
            pulse_rate_hz=numbers(1e6, 1e10),
            frame_pulses=integers(10**4, 10**7),
            block_size_bits=integers(10**3, 10**6),
            abort_qber=numbers(0.0, 0.5),
            mu=numbers(0.01, 1.0),
            drift=section(sigma_db=numbers(0, 3), correlation_time_s=numbers(0.1, 100)),
        ),
        "buffer": section(
            capacity_bits=integers(10**4, 10**9),
            minimum_bits=integers(0, 10**4),
            threshold_bits=integers(10**4, 10**6),
            initial_bits=integers(0, 10**6),
        ),
        "classical": section(
            data_rate=st.sampled_from(
                ["0bps", "1bps", "999bps", "1kbps", "10Mbps", "1Gbps", "1000Gbps", "9999Gbps"]
            ),
            queue_packets=integers(1, 10000),
        ),
        "post_processing": section(
            ec_efficiency=numbers(1.0, 2.0),
            ec_rounds=integers(1, 10),
            auth_tag_bits=integers(0, 256),
            timeout_s=numbers(0.01, 100),
        ),
        "demands": st.lists(
            st.fixed_dictionaries(
                {"src": st.just("SIE"), "dst": st.just("BREIT"), "rate_bps": numbers(0, 1e5)}
            ),
            max_size=2,
        ),
        "reward": section(
            key_weight=numbers(-10, 10),
            key_scale_bps=numbers(1, 1e6),
            unserved_penalty=numbers(-10, 10),
        ),
    },
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(SCENARIOS)
def test_validated_scenarios_step_once_without_native_crash(ns, data):
    from bridge.scenario import QkdScenario, load_plan
    from bridge.scenario.cost import estimate_cost

    try:
        config = parse_scenario(data, source=SOURCE)
    except ScenarioError as exc:
        text = str(exc)
        assert "\n" not in text and text.startswith(f"{SOURCE}: "), text
        return
    assert isinstance(config, ScenarioConfig)
    for value in _floats(config.model_dump()):
        assert math.isfinite(value)
    plan = load_plan(config)
    try:
        scenario = QkdScenario(config, plan=plan, watchdog_s=0)
    except ScenarioError as exc:  # the cost check: one line naming the source
        assert "\n" not in str(exc) and str(exc).startswith(f"{SOURCE}: "), exc
        return
    with scenario:
        assume(estimate_cost(config, plan, scenario.physics).wall_s < 5.0)  # keep the test fast
        result = scenario.step()
    event("validated scenario stepped")
    assert result.time_s == pytest.approx(config.step_s, rel=1e-3, abs=2e-9)
    for column in ("secret_bits", "sifted_bits"):
        assert all(math.isfinite(v) and v >= 0 for v in result.link(column))


def _floats(value) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _floats(v)]
    return []


def test_runtime_refuses_steps_ns3_cannot_take(ns):
    """NS_FATAL (time overflow) and a zero-length step are unreachable even past validation."""
    from bridge.scenario import QkdScenario
    from tests.network._scenarios import FAST_LINK

    config = parse_scenario({"topology": "secoqc-vienna", "link": FAST_LINK, "steps": 1})
    with QkdScenario(config, watchdog_s=0) as scenario:
        for dt in (1e12, math.inf, math.nan, 0.0, 1e-12, -1.0):
            with pytest.raises(ValueError) as caught:
                scenario.runtime.step(dt)
            assert "\n" not in str(caught.value)
        scenario.runtime.step(0.01)  # still usable afterwards
        assert scenario.runtime.now_s == pytest.approx(0.01)
