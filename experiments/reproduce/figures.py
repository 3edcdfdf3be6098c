"""The reproduction's figures (matplotlib, each as PNG and SVG), drawn from the results table and
the runs' own tables only, so they can be redrawn from a finished output folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from experiments.metrics import mean_interval, step_qber

FRACTION = "byzantine.fraction"
ARM_STYLE = {
    "baseline": ("tab:red", "o"),
    "abft": ("tab:blue", "s"),
    "abft+agent": ("tab:green", "^"),
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; no display on a server
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "svg"):
        path = out_dir / f"{name}.{ext}"
        # SVG: fixed hash salt and no date, so the same data gives the same file
        meta = {"Date": None} if ext == "svg" else {}
        fig.savefig(path, dpi=120, bbox_inches="tight", metadata=meta)
        paths.append(path)
    _pyplot().close(fig)
    return paths


def metric_vs_fraction(
    table: pd.DataFrame, column: str, label: str, out_dir: Path, name: str
) -> list[Path]:
    """`column` against the Byzantine fraction, one panel per network, one line per arm, with
    95 % intervals over seeds."""
    plt = _pyplot()
    plt.rcParams["svg.hashsalt"] = "qkdnet"
    networks = list(dict.fromkeys(table["network"]))
    fig, axes = plt.subplots(1, len(networks), figsize=(4.2 * len(networks), 3.4), squeeze=False)
    for ax, network in zip(axes[0], networks, strict=True):
        rows = table[table.network == network]
        for arm, (color, marker) in ARM_STYLE.items():
            sel = rows[rows.arm == arm]
            if sel.empty:
                continue
            xs, means, lows, highs = [], [], [], []
            for fraction, group in sel.groupby(FRACTION):
                mean, low, high, _ = mean_interval(group[column].tolist())
                xs.append(100 * fraction)
                means.append(mean)
                lows.append(mean - low if np.isfinite(low) else 0.0)
                highs.append(high - mean if np.isfinite(high) else 0.0)
            ax.errorbar(
                xs, means, yerr=[lows, highs], color=color, marker=marker, capsize=3, label=arm
            )
        ax.set_title(network)
        ax.set_xlabel("Byzantine fraction of trusted nodes (%)")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0.0)
    axes[0][0].set_ylabel(label)
    axes[0][0].legend(fontsize=8)  # the first panel (six-node) has every arm
    return _save(fig, out_dir, name)


def delivered_over_time(
    runs: dict[str, list[Path]], onset_s: float, out_dir: Path, name: str, title: str
) -> list[Path]:
    """Delivered key (bit/s, all demands) per step around the onset, mean over each arm's runs."""
    from bridge.scenario.metrics import read_run

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for arm, paths in runs.items():
        series = []
        for path in paths:
            demands = read_run(path)["demands"]
            series.append(demands.groupby("time_s")["delivered_bps"].sum())
        if not series:
            continue
        mean = pd.concat(series, axis=1).mean(axis=1)
        color, _ = ARM_STYLE.get(arm, ("k", "."))
        ax.plot(mean.index, mean.to_numpy() / 1e3, color=color, label=f"{arm} ({len(series)} runs)")
    ax.axvline(onset_s, color="k", linestyle="--", linewidth=1, label="Byzantine onset")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("delivered key (kbit/s)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out_dir, name)


def qber_distribution(
    runs: dict[str, list[Path]], out_dir: Path, name: str, title: str
) -> list[Path]:
    """Histogram of per-link per-step QBER, every run of each arm pooled."""
    from bridge.scenario.metrics import read_run

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    bins = np.linspace(0.0, 0.3, 61)
    for arm, paths in runs.items():
        values = [step_qber(read_run(p)["links"]).dropna().to_numpy() for p in paths]
        if not values:
            continue
        color, _ = ARM_STYLE.get(arm, ("k", "."))
        ax.hist(
            np.concatenate(values), bins=bins, histtype="step", color=color, label=arm, density=True
        )
    ax.axvline(0.01, color="k", linestyle=":", linewidth=1, label="paper: 1 %")
    ax.set_xlabel("QBER of a link in one step")
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, out_dir, name)


def training_curve(
    episodes: pd.DataFrame, baselines: dict[str, float], out_dir: Path, name: str
) -> list[Path]:
    """The agent's return per training episode (and its moving mean) against the best baseline
    policy's mean return on the same scenario."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(
        episodes["episode"], episodes["return"], color="tab:green", alpha=0.4, label="DQN return"
    )
    window = max(3, len(episodes) // 10)
    ax.plot(
        episodes["episode"],
        episodes["return"].rolling(window).mean(),
        color="tab:green",
        label=f"DQN, moving mean of {window}",
    )
    if baselines:
        best = max(baselines, key=baselines.get)
        ax.axhline(
            baselines[best], color="tab:gray", linestyle="--", label=f"best baseline ({best})"
        )
    ax.axvline(500, color="k", linestyle=":", linewidth=1, label="paper: 500 episodes")
    ax.set_xlim(0, max(10, int(episodes["episode"].max()) + 1) if len(episodes) else 10)
    ax.set_xlabel("training episode")
    ax.set_ylabel("episode return")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, out_dir, name)
