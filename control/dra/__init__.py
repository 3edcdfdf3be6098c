"""control.dra: dynamic resource allocation for the QKD network by deep Q-learning.

A DQN agent (double-DQN targets, Huber loss, Adam, gradient clipping, epsilon-greedy) learns from
prioritized experience replay (Schaul et al. 2015, sum-tree, alpha and annealed beta) on any
Gymnasium env with a `Box` observation and a `Discrete` action, vectorised or not. Around it: a
`Trainer` that logs every episode, checkpoints and resumes bit for bit, an `Evaluator` that writes
per-step Parquet and summarises with confidence intervals, and the baselines it is compared to.

Modules, one job each:
    config       validated settings (pydantic)          agent      networks, acting, learning step
    sum_tree     priorities: O(log N) update and draw   replay     uniform and prioritized buffers
    network      the Q-network MLP                      schedules  epsilon and beta over env steps
    spaces       supported spaces, flattening           vector     sync/async sub-environments
    seeding      per-episode seeds, global RNG state    checkpoint atomic, pickle-free files
    episode_log  per-episode CSV and TensorBoard        interrupts Ctrl-C as "stop and save"
    trainer      `train(...)`                           evaluator  `evaluate(...)`
    policies     `Policy`, DQN / random / env baselines stats      mean and t-interval
    cli          `qkdnet train`, `qkdnet evaluate`

The names below are importable from `control.dra` directly; they load on first use so that
importing the package (as the CLI does) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TrainingConfig": "control.dra.config",
    "DqnConfig": "control.dra.config",
    "TrainerConfig": "control.dra.config",
    "load_training_config": "control.dra.config",
    "DqnAgent": "control.dra.agent",
    "SumTree": "control.dra.sum_tree",
    "ReplayBuffer": "control.dra.replay",
    "PrioritizedReplayBuffer": "control.dra.replay",
    "Trainer": "control.dra.trainer",
    "TrainResult": "control.dra.trainer",
    "train": "control.dra.trainer",
    "Evaluator": "control.dra.evaluator",
    "EvaluationResult": "control.dra.evaluator",
    "evaluate": "control.dra.evaluator",
    "Policy": "control.dra.policies",
    "RandomPolicy": "control.dra.policies",
    "DqnPolicy": "control.dra.policies",
    "EnvBaselinePolicy": "control.dra.policies",
    "BaselineActionProvider": "control.dra.policies",
    "make_policy": "control.dra.policies",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'control.dra' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
