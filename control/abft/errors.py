"""Exceptions of the ABFT coordinator.

Each failure has its own type so a caller can tell a peer that sent garbage (drop the message,
count it) from a configuration that cannot be safe (refuse to start) from a relay that lost too
many shares (the key is not delivered). Messages are one line and name the offending value.
"""

from __future__ import annotations

from bridge.scenario.sharing_policy import SharingError  # noqa: F401 - the policy's error


class AbftError(Exception):
    """Base class of everything control.abft raises on purpose."""


class MessageDecodeError(AbftError, ValueError):
    """Bytes received from a peer are not a well-formed protocol message."""


class UnsafeWeightsError(AbftError, ValueError):
    """Weights (or a fault bound) for which a Byzantine set could reach a quorum."""


class ConfigurationError(AbftError, ValueError):
    """Parameters that make no sense together (sizes, ranges, unknown node ids)."""


class KeyRelayError(AbftError):
    """A relayed key could not be reconstructed: fewer than t shares arrived intact."""
