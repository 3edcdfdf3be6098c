"""Exceptions of the ns3-gym wire protocol.

Each failure a peer can cause has its own type, so callers can tell "the other side is gone"
(retry with a fresh simulation) from "the other side speaks something else" (a bug to report)
from "the other side is slow" (raise the timeout). Messages are one line and name the peer and the
message that was expected, because they end up as the last line a user sees.
"""

from __future__ import annotations


class Ns3GymError(RuntimeError):
    """Base class: anything that went wrong talking the ns3-gym protocol."""


class Ns3GymProtocolError(Ns3GymError):
    """The peer sent bytes that are not the message the protocol expects at this point."""


class Ns3GymTimeout(Ns3GymError, TimeoutError):  # noqa: N818 - reads as what happened
    """The peer sent nothing within the receive timeout."""


class Ns3GymPeerDied(Ns3GymError):  # noqa: N818 - reads as what happened
    """The peer's process exited or its connection closed while we waited for it."""


class Ns3GymSpaceError(Ns3GymError, ValueError):
    """A space or value cannot be expressed on the wire (unsupported space, out-of-range value)."""
