"""The Q-network: an MLP from a flattened observation to one Q-value per discrete action."""

from __future__ import annotations

import torch
from torch import nn

from control.dra.config import NetworkConfig

_ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh}


class QNetwork(nn.Module):
    """Linear layers of `hidden_sizes` units with the configured activation, linear output."""

    def __init__(self, obs_dim: int, n_actions: int, config: NetworkConfig) -> None:
        super().__init__()
        if obs_dim < 1 or n_actions < 1:
            raise ValueError(f"QNetwork needs obs_dim, n_actions >= 1, got {obs_dim}, {n_actions}")
        layers: list[nn.Module] = []
        width = obs_dim
        for size in config.hidden_sizes:
            layers += [nn.Linear(width, size), _ACTIVATIONS[config.activation]()]
            width = size
        layers.append(nn.Linear(width, n_actions))
        self.layers = nn.Sequential(*layers)
        self.obs_dim = obs_dim
        self.n_actions = n_actions

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """(batch, obs_dim) float32 -> (batch, n_actions) Q-values."""
        return self.layers(obs)
