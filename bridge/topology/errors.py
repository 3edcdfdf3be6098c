"""The one exception and the one warning of the topology package.

Why a ValueError subclass: bad topology input is the user's fault, and the CLI's `user_errors()`
already turns a ValueError into `qkdnet: error: <message>` with exit status 2. Every message is
one line that starts with the file (or built-in name) and the element or line it is about, e.g.
``topo.gml: edge 3-7: negative length_km -4.0``.
"""

from __future__ import annotations


class TopologyError(ValueError):
    """A topology that cannot be used; the message names the file and the line or element."""


class TopologyWarning(UserWarning):
    """Something was filled in for the user (a default length, merged parallel links, ...)."""
