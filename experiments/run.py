"""`qkdnet run`: one scenario, start to end, metrics to Parquet as it goes.

The run loop is the design's data flow: the scenario steps (physics -> ns-3 -> counters), the
control plane (ABFT coordinator or the no-ABFT baseline) reads the nodes' reports and decides what
to trust, and every table of every step is recorded. The summary printed at the end is computed
from the recorded tables, so it is exactly what the Parquet files say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridge.scenario import QkdScenario, StepResult
from bridge.scenario.config import ScenarioConfig
from bridge.scenario.metrics import MetricsRecorder, check_run_directory, read_run
from bridge.scenario.plan import ScenarioPlan


@dataclass(frozen=True)
class RunSummary:
    """Headline numbers of a finished run (all computed from the recorded tables)."""

    steps: int
    simulated_s: float
    secret_bits_total: float
    delivered_bits_total: float
    availability: float  # served requests / requests, all demands
    mean_qber: float
    blocks_aborted: float
    shares_rejected: float
    corrupted_keys: float

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def summarise(tables: dict[str, pd.DataFrame]) -> RunSummary:
    """Summary of a run directory's tables (uses each counter's value at the last step)."""
    links = tables["links"]
    last_step = int(links.step.max())
    last_links = links[links.step == last_step]
    demands = tables.get("demands", pd.DataFrame())
    last_demands = demands[demands.step == last_step] if not demands.empty else demands
    sifted = last_links.sifted_bits.sum()
    requests = last_demands.requests.sum() if not demands.empty else 0.0
    served = last_demands.served.sum() if not demands.empty else 0.0

    def total(frame: pd.DataFrame, column: str) -> float:
        return float(frame[column].sum()) if not frame.empty else 0.0

    return RunSummary(
        steps=last_step,
        simulated_s=float(last_links.time_s.iloc[0]),
        secret_bits_total=float(last_links.secret_bits.sum()),
        delivered_bits_total=total(last_demands, "delivered_bits"),
        availability=float(served / requests) if requests else float("nan"),
        mean_qber=float(last_links.error_bits.sum() / sifted) if sifted else float("nan"),
        blocks_aborted=float(last_links.blocks_aborted.sum()),
        shares_rejected=total(last_demands, "shares_rejected"),
        corrupted_keys=total(last_demands, "corrupted"),
    )


def run_scenario(
    config: ScenarioConfig,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    flush_every: int = 50,
    on_step: Callable[[StepResult], None] | None = None,
    progress: bool = True,
    watchdog_s: float | None = None,
) -> RunSummary:
    """Run `config` for `config.steps` steps, recording every table under `out_dir`.

    `watchdog_s`: see `QkdScenario`; a step without simulated progress for that long stops
    the process with one line (the run directory keeps what was flushed)."""
    from tqdm import tqdm

    from control.plane import ControlPlane

    metadata: dict[str, Any] = {"scenario": config.model_dump(mode="json")}
    check_run_directory(Path(out_dir), overwrite=overwrite)  # refuse before building anything
    with QkdScenario(config, watchdog_s=watchdog_s) as scenario:
        recorder = MetricsRecorder(
            out_dir, metadata=metadata, flush_every=flush_every, overwrite=overwrite
        )
        complete = False
        try:
            scenario.attach_control(ControlPlane(config, scenario.plan, scenario))
            for _ in tqdm(range(config.steps), desc=config.name, unit="step", disable=not progress):
                result = scenario.step()
                recorder.record(result.step, result.columns())
                if on_step is not None:
                    on_step(result)
            complete = True
        finally:
            recorder.close(complete=complete)
    summary = summarise(read_run(out_dir))
    recorder.close(complete=True, summary=summary.as_dict())
    return summary


def _before_after(
    frame: pd.DataFrame, key: str, column: str, onset_s: float, names: tuple[str, str]
) -> pd.DataFrame:
    """Mean of `column` per `key` over the steps before and after the onset."""
    before = frame[frame.time_s <= onset_s].groupby(key)[column].mean()
    after = frame[frame.time_s > onset_s].groupby(key)[column].mean()
    return pd.DataFrame({names[0]: before, names[1]: after}).replace({np.inf: np.nan})


def attacked_link_report(tables: dict[str, pd.DataFrame], onset_s: float) -> pd.DataFrame:
    """Per link: measured QBER before and after the Byzantine onset (what an attack shows)."""
    return _before_after(
        tables["links"], "link", "step_qber", onset_s, ("qber_before", "qber_after")
    )


def demand_report(tables: dict[str, pd.DataFrame], onset_s: float) -> pd.DataFrame:
    """Per demand: delivered key rate (bit/s) before and after the Byzantine onset."""
    demands = tables.get("demands", pd.DataFrame())
    if demands.empty:
        return pd.DataFrame(columns=["delivered_bps_before", "delivered_bps_after"])
    return _before_after(
        demands,
        "demand",
        "delivered_bps",
        onset_s,
        ("delivered_bps_before", "delivered_bps_after"),
    )


def sharing_report(tables: dict[str, pd.DataFrame], plan: ScenarioPlan) -> pd.DataFrame:
    """Per demand: its (t, n) sharing, how it fell short of the scenario, and tag-key refusals.

    `paths_wanted` is what the scenario asked for (3 by default, 1 between neighbours); a plan
    with fewer paths had to fall back to what the graph allows. `short_steps` counts steps in
    which the control plane found fewer trusted node-disjoint routes than planned,
    `lowered_steps` steps served with fewer shares than t (`when_short: fewer_shares`),
    `refused` reroutes refused for having fewer than t routes (`when_short: refuse`).
    """
    rows = pd.DataFrame(
        {
            "t": [d.threshold for d in plan.demands],
            "n": [d.paths for d in plan.demands],
            "n_wanted": [d.paths_wanted for d in plan.demands],
        },
        index=pd.Index([d.index for d in plan.demands], name="demand"),
    )
    demands = tables.get("demands", pd.DataFrame())
    if demands.empty:
        return rows
    last = demands[demands.step == demands.step.max()].set_index("demand")
    by_demand = demands.groupby("demand")
    rows["short_steps"] = by_demand.routes_short.apply(lambda c: int((c > 0).sum()))
    rows["lowered_steps"] = by_demand.threshold_lowered.apply(lambda c: int((c > 0).sum()))
    rows["refused"] = last.reroutes_refused
    rows["auth_exhausted"] = last.auth_exhausted.astype(int)
    return rows
