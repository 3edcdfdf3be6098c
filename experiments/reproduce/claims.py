"""The paper's claims against what the reproduction measured: one row each, written as claims.md.

Each row: the claim, the paper's value, our value with its 95 % interval (Student t over seeds;
experiments/metrics.py defines every metric), the command that produced it and a verdict:

  reproduced       the whole interval is on the claim's side of the paper's value
  consistent       the interval contains the paper's value
  not reproduced   the whole interval is on the other side
  not measured     no run in this profile measures it (e.g. too few episodes)

With a single seed there is no interval and the verdict compares the one value (said so).
Where the claim cannot hold physically with the modelled hardware, the row says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.metrics import mean_interval

FRACTION = "byzantine.fraction"
CLAIM_FRACTION = 0.2


@dataclass(frozen=True)
class Claim:
    claim: str
    paper: str
    measured: str
    verdict: str
    command: str
    note: str = ""


def _fmt(value: float, percent: bool) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{100 * value:.2f} %" if percent else f"{value:.3g}"


def describe(
    values: list[float], percent: bool = True, bounds: tuple[float, float] | None = None
) -> tuple[str, tuple[float, float, float, int]]:
    """'mean [low, high] (n = k)' and the numbers; `bounds` clip the interval to the values a
    quantity can take (a fraction stays within [0, 1] whatever the t interval says)."""
    mean, low, high, n = mean_interval(values)
    if bounds is not None and n > 1 and not math.isnan(low):
        low, high = max(low, bounds[0]), min(high, bounds[1])
    if n == 0:
        return "no data", (mean, low, high, n)
    if n == 1 or math.isnan(low):
        return f"{_fmt(mean, percent)} (one value, no interval)", (mean, low, high, n)
    return (
        f"{_fmt(mean, percent)} [{_fmt(low, percent)}, {_fmt(high, percent)}] (n = {n})",
        (mean, low, high, n),
    )


def verdict_at_least(stats: tuple[float, float, float, int], target: float) -> str:
    mean, low, high, n = stats
    if n == 0:
        return "not measured"
    if n == 1 or math.isnan(low):
        return "reproduced (one value)" if mean >= target else "not reproduced (one value)"
    if low >= target:
        return "reproduced"
    if high >= target:
        return "consistent"
    return "not reproduced"


def verdict_at_most(stats: tuple[float, float, float, int], target: float) -> str:
    mean, low, high, n = stats
    flipped = (-mean, -high, -low, n)
    return verdict_at_least(flipped, -target)


def verdict_near(stats: tuple[float, float, float, int], target: float, tolerance: float) -> str:
    """For "about X": the interval (or the single value +- tolerance) contains X."""
    mean, low, high, n = stats
    if n == 0:
        return "not measured"
    if n == 1 or math.isnan(low):
        ok = abs(mean - target) <= tolerance
        return "consistent (one value)" if ok else "not reproduced (one value)"
    return "consistent" if low - tolerance <= target <= high + tolerance else "not reproduced"


def _at_fraction(table: pd.DataFrame, fraction: float) -> pd.DataFrame:
    """Rows at the grid fraction nearest `fraction` (the count actually drawn is in the table)."""
    fractions = sorted(f for f in table[FRACTION].unique() if f > 0)
    if not fractions:
        return table.iloc[0:0]
    nearest = min(fractions, key=lambda f: abs(f - fraction))
    return table[table[FRACTION] == nearest]


def _count_note(rows: pd.DataFrame) -> str:
    counts = sorted(set(rows["byzantine_count"].astype(int)))
    trusted = sorted(set(rows["trusted_nodes"].astype(int)))
    return f"{'/'.join(map(str, counts))} of {'/'.join(map(str, trusted))} trusted nodes Byzantine"


def retention_claims(table: pd.DataFrame, command: str) -> list[Claim]:
    out = []
    for network, rows in table.groupby("network", sort=False):
        for arm, target, kind in (
            ("abft", 0.95, "min"),
            ("abft+agent", 0.95, "min"),
            ("baseline", 0.5, "near"),
        ):
            sel = _at_fraction(rows[rows.arm == arm], CLAIM_FRACTION)
            if sel.empty:
                continue
            text, stats = describe(sel["retention"].tolist())
            fraction = float(sel[FRACTION].iloc[0])
            if kind == "min":
                claim = f"{arm}: key rate kept >= 95 % under 20 % Byzantine ({network})"
                verdict = verdict_at_least(stats, target)
            else:
                claim = f"baseline: key rate drops ~50 % under 20 % Byzantine ({network})"
                verdict = verdict_near(stats, target, 0.1)
            note = f"fraction {fraction:g}: {_count_note(sel)}."
            if network == "beijing-shanghai":
                note += (
                    " The backbone is a chain: a demand whose segment holds a Byzantine relay has "
                    "no other route, so no control plane can keep its key (physically impossible)."
                )
            out.append(
                Claim(claim, "95 %" if kind == "min" else "50 %", text, verdict, command, note)
            )
    return out


def qber_claim(
    table: pd.DataFrame, command: str, intrinsic_qber: float, preset: str
) -> list[Claim]:
    out = []
    for column, which in (("qber_honest", "honest links"), ("qber_all", "all links")):
        rows = table[table.arm != "baseline"]
        text, stats = describe(rows[column].tolist())
        note = ""
        if intrinsic_qber >= 0.01:
            note = (
                f"Cannot hold physically here: the shipped '{preset}' hardware has a misalignment "
                f"error e_d = {100 * intrinsic_qber:.1f} %, a floor under every link's QBER "
                "whatever the control plane does."
            )
        out.append(
            Claim(
                f"QBER < 1 % ({which}, ABFT arms)",
                "< 1 %",
                text,
                verdict_at_most(stats, 0.01),
                command,
                note,
            )
        )
    return out


def availability_claims(table: pd.DataFrame, command: str) -> list[Claim]:
    out = []
    attacked = table[table[FRACTION] > 0]
    for arm, target in (("abft", 0.9999), ("abft+agent", 0.9999), ("baseline", 0.95)):
        rows = attacked[attacked.arm == arm]
        if rows.empty:
            continue
        text, stats = describe(rows["availability_after_onset"].tolist(), bounds=(0.0, 1.0))
        resolution = 1.0 / rows["requests"].sum() if rows["requests"].sum() > 0 else math.nan
        note = (
            f"after the onset, Byzantine fractions > 0, all networks; finest step of one task "
            f"{_fmt(float(rows['availability_resolution'].median()), True)}, of all pooled "
            f"{_fmt(resolution, True)}."
        )
        if target > 0.999 and not resolution <= 1e-4:
            note += " This profile has too few requests to resolve 99.99 %."
        if arm == "baseline":
            verdict = verdict_near(stats, target, 0.02)
            claim = "baseline availability ~95 % under attack"
        else:
            verdict = verdict_at_least(stats, target)
            claim = f"{arm} availability 99.99 % under attack"
        out.append(Claim(claim, f"{100 * target:g} %", text, verdict, command, note))
    return out


def convergence_episode(returns: list[float], window: int, tolerance: float = 0.1) -> int | None:
    """First episode (1-based) from which the `window`-episode moving mean of the return stays
    within `tolerance` x (range of the moving mean) of its final value; None if never."""
    if len(returns) < 2 * window:
        return None
    moving = pd.Series(returns).rolling(window).mean().dropna().to_numpy()
    final = moving[-1]
    band = tolerance * (moving.max() - moving.min() or 1.0)
    inside = np.abs(moving - final) <= band
    # a plateau needs `window` more moving means after its start, or the last point would
    # always "converge" onto itself
    for i in range(len(inside) - window):
        if inside[i:].all():
            return i + window  # the moving mean at index i ends at episode i + window
    return None


def convergence_claim(
    episodes: pd.DataFrame | None, planned: int, command: str, what: str
) -> Claim:
    if episodes is None or episodes.empty:
        return Claim(
            "DQN converges within 500 episodes",
            "<= 500 episodes",
            "no training log",
            "not measured",
            command,
            what,
        )
    returns = episodes["return"].tolist()
    window = max(3, len(returns) // 10)
    found = convergence_episode(returns, window)
    done = len(returns)
    if found is None:
        measured = f"not converged in {done} episodes (moving mean over {window})"
        verdict = "not measured" if done < 500 else "not reproduced"
    else:
        measured = f"episode {found} of {done} (moving mean over {window}; one training run)"
        verdict = "consistent (one run)" if found <= 500 else "not reproduced (one run)"
    return Claim(
        "DQN converges within 500 episodes", "<= 500 episodes", measured, verdict, command, what
    )


def paired_reduction(
    agent: np.ndarray, base: np.ndarray, seed: int = 15
) -> tuple[float, float, float, int]:
    """1 - mean(agent) / mean(base) over paired runs, with a 95 % percentile bootstrap interval
    (pairs resampled, 2000 times, fixed seed: the same data give the same interval).

    Why a ratio of means and not the mean of per-pair ratios: a pair whose baseline variance is
    near zero (few fluctuation steps) makes its own ratio explode and swamp the others."""
    n = len(agent)
    if n == 0 or base.sum() <= 0:
        return math.nan, math.nan, math.nan, n
    value = 1.0 - agent.mean() / base.mean()
    if n == 1:
        return value, math.nan, math.nan, 1
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(2000, n))
    ratios = 1.0 - agent[picks].mean(axis=1) / base[picks].mean(axis=1)
    low, high = np.percentile(ratios[np.isfinite(ratios)], [2.5, 97.5])
    return float(value), float(low), float(high), n


def variance_claim(table: pd.DataFrame, command: str) -> list[Claim]:
    """35 % less QBER variance under fluctuation: ABFT+agent vs baseline, runs paired by
    network, fraction and seed."""
    keys = ["network", FRACTION, "seed"]
    agent = table[table.arm == "abft+agent"].set_index(keys)["qber_variance_fluctuation"]
    base = table[table.arm == "baseline"].set_index(keys)["qber_variance_fluctuation"]
    pairs = pd.concat([agent.rename("agent"), base.rename("base")], axis=1, join="inner").dropna()
    stats = paired_reduction(pairs["agent"].to_numpy(), pairs["base"].to_numpy())
    mean, low, high, n = stats
    if n == 0:
        text = "no paired runs"
    elif n == 1 or math.isnan(low):
        text = f"{_fmt(mean, True)} (one pair, no interval)"
    else:
        text = (
            f"{_fmt(mean, True)} [{_fmt(low, True)}, {_fmt(high, True)}] (n = {n} pairs, bootstrap)"
        )
    note = (
        "1 - mean variance (agent) / mean variance (baseline). Per honest link, the variance of "
        "its step QBER during its fluctuation steps (loss or source rate away from its median); "
        "an honest link's QBER is set by its channel and the finite number of sifted bits, so "
        "only the agent's intensity choices can change it: trust decisions and routing cannot."
    )
    claim = "35 % less QBER variance under fluctuation (ABFT+agent vs baseline)"
    return [Claim(claim, "35 %", text, verdict_at_least(stats, 0.35), command, note)]


def render(claims: list[Claim], header: str) -> str:
    lines = [
        header,
        "",
        "| claim | paper | measured (mean [95 % CI]) | verdict | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in claims:
        lines.append(f"| {c.claim} | {c.paper} | {c.measured} | {c.verdict} | {c.note} |")
    commands = sorted({c.command for c in claims})
    lines += ["", "Commands:", ""] + [f"    {cmd}" for cmd in commands]
    return "\n".join(lines) + "\n"
