"""The paper's metrics, computed from a run's recorded tables (links, demands, nodes).

Why one module with exact definitions: "95 % of the key rate kept" or "99.99 % availability"
mean nothing until the window, the reference and the unit are fixed, and the same words computed
two ways give two answers. Every number `qkdnet sweep` and `qkdnet reproduce` report comes from
the functions here, and each function's docstring is its definition.

Conventions (all functions):
  * The tables hold ns-3's *cumulative* counters per step (`step` 1, 2, ...; `time_s` is the end of
    the step). Per-step amounts are differences of consecutive steps of the same link/demand; the
    first recorded step's amount is its counter itself (counters start at 0).
  * The **window** of a metric is the set of steps it looks at. Warm-up steps (`step <=
    warmup_steps`) are never in it: the first steps start with empty pipelines (post-processing
    has not closed a block, the first request finds no route state), which is start-up, not
    behaviour. "After the onset" further keeps only the steps that *start* at or after the
    Byzantine onset (`time_s - step_s >= onset_s`), so no step mixes before and after.
  * QBER is pooled: errors / sifted bits summed over the links and steps considered (a link that
    sifted more weighs more, as its key does). A step or link that sifted nothing has no QBER.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

STEP_TOLERANCE_S = 1e-9  # simulated time is integer ns in ns-3; float step ends may be off by less


@dataclass(frozen=True)
class MetricWindow:
    """Which steps a task's metrics look at. `onset_s` None = no onset (whole post-warm-up)."""

    step_s: float
    warmup_steps: int = 0
    onset_s: float | None = None


@dataclass(frozen=True)
class FluctuationRule:
    """When a link is "in a resource-fluctuation period" (see `qber_variance_in_fluctuation`).

    A step is a fluctuation step of a link when the link's loss differs from its own median loss
    over the window by more than `loss_db`, or its source rate differs from its median rate by
    more than `rate_fraction` of that median: the channel is away from its usual state.
    """

    loss_db: float = 0.1
    rate_fraction: float = 0.05


def step_amounts(frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    """Per-step amount of a cumulative counter (`column`) for every row, by `key` (link/demand).

    Returned aligned to `frame`'s index. Rows are ordered by step within each key first, so the
    input's row order does not matter.
    """
    ordered = frame.sort_values([key, "step"])
    amounts = ordered.groupby(key, sort=False)[column].diff()
    amounts = amounts.fillna(ordered[column])
    return amounts.reindex(frame.index)


def window_mask(frame: pd.DataFrame, window: MetricWindow, *, after_onset: bool) -> pd.Series:
    """Rows of `frame` inside the window (see the module doc)."""
    mask = frame["step"] > window.warmup_steps
    if after_onset and window.onset_s is not None:
        start_s = frame["time_s"] - window.step_s
        mask &= start_s >= window.onset_s - STEP_TOLERANCE_S
    return mask


def delivered_bits(demands: pd.DataFrame, window: MetricWindow, *, after_onset: bool) -> float:
    """Key delivered to the applications (bits, all demands) during the window's steps."""
    if demands.empty:
        return 0.0
    amounts = step_amounts(demands, "demand", "delivered_bits")
    return float(amounts[window_mask(demands, window, after_onset=after_onset)].sum())


def window_duration_s(frame: pd.DataFrame, window: MetricWindow, *, after_onset: bool) -> float:
    """Simulated seconds covered by the window's steps."""
    steps = frame.loc[window_mask(frame, window, after_onset=after_onset), "step"].nunique()
    return steps * window.step_s


def retention(delivered_attacked_bits: float, delivered_reference_bits: float) -> float:
    """Key-rate retention: delivered key after the onset in the run with Byzantine nodes, divided
    by the delivered key over the same window of the same network, same seed, same control plane,
    with no Byzantine node. NaN when the reference delivered nothing (nothing to retain).

    Why not "after / before the onset in one run": the start-up steps and the channel's own drift
    differ between the two windows, which is how retention above 100 % appeared.
    """
    if delivered_reference_bits <= 0.0:
        return math.nan
    return delivered_attacked_bits / delivered_reference_bits


@dataclass(frozen=True)
class Availability:
    """Fraction of demand-time with key served.

    Each request of a demand stands for one demand interval (`demand_interval_s`) of that
    application's time; a request is served when the key it asked for was delivered. So the
    fraction of demand-time served is served requests / requests over the window, and the finest
    step it can resolve is 1 / requests (`resolution`): 99.99 % needs at least 10,000 requests in
    the window, e.g. a 1 ms demand interval over 10 s of simulated time.
    """

    served: float
    requests: float

    @property
    def value(self) -> float:
        return self.served / self.requests if self.requests > 0 else math.nan

    @property
    def resolution(self) -> float:
        return 1.0 / self.requests if self.requests > 0 else math.nan


def availability(demands: pd.DataFrame, window: MetricWindow, *, after_onset: bool) -> Availability:
    """Availability over the window, all demands pooled (see `Availability`)."""
    if demands.empty:
        return Availability(0.0, 0.0)
    mask = window_mask(demands, window, after_onset=after_onset)
    served = step_amounts(demands, "demand", "served")[mask].sum()
    requests = step_amounts(demands, "demand", "requests")[mask].sum()
    return Availability(float(served), float(requests))


def honest_links(
    links: pd.DataFrame, link_ends: Mapping[int, tuple[int, int]], byzantine: Iterable[int]
) -> list[int]:
    """Links neither of whose ends is Byzantine."""
    bad = set(byzantine)
    present = sorted(int(link) for link in links["link"].unique())
    return [link for link in present if not (set(link_ends[link]) & bad)]


def pooled_qber(
    links: pd.DataFrame,
    window: MetricWindow,
    *,
    after_onset: bool,
    only: Iterable[int] | None = None,
) -> float:
    """Mean QBER: errors / sifted bits over the window's steps and the given links (all if None)."""
    mask = window_mask(links, window, after_onset=after_onset)
    if only is not None:
        mask &= links["link"].isin(list(only))
    errors = step_amounts(links, "link", "error_bits")[mask].sum()
    sifted = step_amounts(links, "link", "sifted_bits")[mask].sum()
    return float(errors / sifted) if sifted > 0 else math.nan


def step_qber(links: pd.DataFrame) -> pd.Series:
    """Each row's QBER of that step alone (NaN where the link sifted nothing in the step)."""
    errors = step_amounts(links, "link", "error_bits")
    sifted = step_amounts(links, "link", "sifted_bits")
    return (errors / sifted.where(sifted > 0)).astype(float)


def fluctuation_mask(links: pd.DataFrame, window: MetricWindow, rule: FluctuationRule) -> pd.Series:
    """Rows where the link is in a resource-fluctuation period (see `FluctuationRule`)."""
    inside = window_mask(links, window, after_onset=False)
    frame = links[inside]
    loss_median = frame.groupby("link")["loss_db"].transform("median")
    rate_median = frame.groupby("link")["pulse_rate_hz"].transform("median")
    away = (frame["loss_db"] - loss_median).abs() > rule.loss_db
    away |= (frame["pulse_rate_hz"] - rate_median).abs() > rule.rate_fraction * rate_median
    return away.reindex(links.index, fill_value=False)


def qber_variance_in_fluctuation(
    links: pd.DataFrame,
    window: MetricWindow,
    rule: FluctuationRule = FluctuationRule(),
    *,
    only: Iterable[int] | None = None,
) -> tuple[float, int]:
    """QBER variance under resource fluctuation: for each link, the (population) variance of its
    per-step QBER over its fluctuation steps in the window (steps that sifted nothing skipped, a
    link needs two such steps); the mean over links of those variances. Returns (mean variance,
    links counted); NaN and 0 when no link qualifies.

    Why per link: QBER levels differ between links (length, hardware), and pooling them would
    measure the spread of the network, not how steady each link stays while its channel moves.
    """
    qber = step_qber(links)
    mask = fluctuation_mask(links, window, rule) & qber.notna()
    if only is not None:
        mask &= links["link"].isin(list(only))
    per_link = qber[mask].groupby(links.loc[mask, "link"])
    variances = [float(np.var(values.to_numpy())) for _, values in per_link if len(values) >= 2]
    if not variances:
        return math.nan, 0
    return float(np.mean(variances)), len(variances)


@dataclass(frozen=True)
class AuthenticationKey:
    """Secret key spent on authentication in the window (bits): tags of the post-processing
    messages on each link (both ends) and tags of relayed key shares (per demand)."""

    post_processing_bits: float
    relay_bits: float

    @property
    def total_bits(self) -> float:
        return self.post_processing_bits + self.relay_bits


def authentication_key(
    links: pd.DataFrame, demands: pd.DataFrame, window: MetricWindow
) -> AuthenticationKey:
    """Key consumed by authentication over the post-warm-up window (see `AuthenticationKey`)."""
    mask = window_mask(links, window, after_onset=False)
    link_bits = sum(
        step_amounts(links, "link", c)[mask].sum() for c in ("auth_a_bits", "auth_b_bits")
    )
    relay_bits = 0.0
    if not demands.empty and "auth_key_bits" in demands:
        dmask = window_mask(demands, window, after_onset=False)
        relay_bits = float(step_amounts(demands, "demand", "auth_key_bits")[dmask].sum())
    return AuthenticationKey(float(link_bits), relay_bits)


def active_byzantine_nodes(nodes: pd.DataFrame) -> list[int]:
    """Nodes that behaved Byzantine at some recorded step (the `byzantine_active` flag)."""
    if nodes.empty or "byzantine_active" not in nodes:
        return []
    active = nodes.loc[nodes["byzantine_active"] > 0, "node"]
    return sorted(int(n) for n in active.unique())


@dataclass(frozen=True)
class TaskMetrics:
    """Every per-run metric of one task (retention needs a second run: see `retention`)."""

    delivered_bits_after_onset: float
    delivered_bits_total: float
    window_after_onset_s: float
    availability: float
    availability_after_onset: float
    availability_resolution: float
    requests: float
    qber_all: float
    qber_honest: float
    qber_all_after_onset: float
    qber_honest_after_onset: float
    qber_variance_fluctuation: float
    qber_variance_links: int
    auth_post_processing_bits: float
    auth_relay_bits: float
    auth_total_bits: float
    secret_bits: float
    byzantine_active_count: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def task_metrics(
    tables: Mapping[str, pd.DataFrame],
    window: MetricWindow,
    link_ends: Mapping[int, tuple[int, int]],
    byzantine: Iterable[int],
    rule: FluctuationRule = FluctuationRule(),
) -> TaskMetrics:
    """All metrics of one run's tables. `byzantine`: the nodes drawn Byzantine for the task."""
    links = tables["links"]
    demands = tables.get("demands", pd.DataFrame())
    nodes = tables.get("nodes", pd.DataFrame())
    honest = honest_links(links, link_ends, byzantine)
    every = availability(demands, window, after_onset=False)
    after = availability(demands, window, after_onset=True)
    variance, counted = qber_variance_in_fluctuation(links, window, rule, only=honest)
    auth = authentication_key(links, demands, window)
    mask = window_mask(links, window, after_onset=False)
    return TaskMetrics(
        delivered_bits_after_onset=delivered_bits(demands, window, after_onset=True),
        delivered_bits_total=delivered_bits(demands, window, after_onset=False),
        window_after_onset_s=window_duration_s(links, window, after_onset=True),
        availability=every.value,
        availability_after_onset=after.value,
        availability_resolution=every.resolution,
        requests=every.requests,
        qber_all=pooled_qber(links, window, after_onset=False),
        qber_honest=pooled_qber(links, window, after_onset=False, only=honest),
        qber_all_after_onset=pooled_qber(links, window, after_onset=True),
        qber_honest_after_onset=pooled_qber(links, window, after_onset=True, only=honest),
        qber_variance_fluctuation=variance,
        qber_variance_links=counted,
        auth_post_processing_bits=auth.post_processing_bits,
        auth_relay_bits=auth.relay_bits,
        auth_total_bits=auth.total_bits,
        secret_bits=float(step_amounts(links, "link", "secret_bits")[mask].sum()),
        byzantine_active_count=len(active_byzantine_nodes(nodes)),
    )


def add_retention(table: pd.DataFrame, cell_fields: list[str], fraction_field: str) -> pd.DataFrame:
    """Add `retention` to a sweep's table: each row's delivered key after the onset divided by
    that of the row with the same cell fields (except the Byzantine fraction), the same seed and
    Byzantine fraction 0. Rows without such a reference get NaN; the reference rows get 1 (or NaN
    when they delivered nothing)."""
    others = [f for f in cell_fields if f != fraction_field]
    keys = [*others, "seed"]
    reference = table[table[fraction_field] == 0][[*keys, "delivered_bits_after_onset"]]
    reference = reference.rename(columns={"delivered_bits_after_onset": "_reference_bits"})
    merged = table.merge(_hashable(reference, keys), on=keys, how="left") if keys else table
    out = table.copy()
    ref = merged["_reference_bits"].to_numpy() if "_reference_bits" in merged else np.nan
    out["reference_delivered_bits"] = ref
    out["retention"] = [
        retention(a, r) if not (isinstance(r, float) and math.isnan(r)) else math.nan
        for a, r in zip(
            out["delivered_bits_after_onset"], out["reference_delivered_bits"], strict=True
        )
    ]
    return out


def _hashable(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Merging needs one row per key: several reference rows for one key is a broken sweep."""
    if frame.duplicated(keys).any():
        raise ValueError("several zero-Byzantine reference runs for one (cell, seed)")
    return frame


def mean_interval(
    values: Iterable[float], confidence: float = 0.95
) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite values: Student-t interval of the mean (a single value
    has an interval as wide as the data: NaN bounds)."""
    from scipy import stats

    data = np.array([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    n = len(data)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(data.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    sem = float(data.std(ddof=1) / math.sqrt(n))
    if sem == 0.0:
        return mean, mean, mean, n
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sem)
    return mean, mean - half, mean + half, n
