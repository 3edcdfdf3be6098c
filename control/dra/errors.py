"""Exceptions of the DQN resource-allocation package.

Why a small hierarchy rooted in `ValueError`: the CLI's `user_errors()` turns `ValueError` into a
one-line `qkdnet: error: ...` with exit status 2, so every problem the user can fix (a bad config,
an unsupported environment, a checkpoint from another run) reaches them as one clear line while
library callers can still catch the specific class.
"""

from __future__ import annotations


class DraError(ValueError):
    """Base class: something the caller can fix (its message names what and where)."""


class UnsupportedEnvError(DraError):
    """The environment's spaces are not a `Box` observation and a `Discrete` action."""


class CheckpointError(DraError):
    """A checkpoint is missing, unreadable, from another run, or cannot be resumed exactly."""


class RunDirectoryError(DraError):
    """The output directory already holds results that this call would overwrite."""


class BaselineUnavailableError(DraError):
    """A baseline policy was asked of an environment that does not describe its actions."""
