"""The default (t, n) policy for sharing a relayed key over node-disjoint routes.

Why here, below both users: the scenario plans every demand's routes and threshold with it and
checks a reroute against it, and the ABFT key relay (`control.abft.relay.MultipathRelay`) applies
the same defaults; the scenario layer must not import the control plane, so the policy (and the
error it raises) lives on the scenario side and `control.abft.sharing` re-exports it.

Why n > t: with XOR n-of-n one dropping relay makes every key fail, so the default is Shamir
(t, n) with n = 3 node-disjoint routes where the graph has them and t = max(2, n - 1): any one
route can fail (drop, tamper, run out of key) and the key still arrives, while no single relay
ever holds t shares. t = 1 over several routes would hand the whole key to every relay, so it is
refused unless asked for by name.
"""

from __future__ import annotations


class SharingError(ValueError):
    """A secret-sharing operation got impossible parameters or inconsistent shares."""


#: Node-disjoint routes a relayed demand is shared over when its scenario does not say.
DEFAULT_PATHS = 3


def default_threshold(paths: int) -> int:
    """Shares needed out of `paths` when not configured: one route may fail, no relay alone."""
    if paths < 1:
        raise SharingError(f"need at least one path, got {paths}")
    return 1 if paths == 1 else max(2, paths - 1)


def check_threshold(threshold: int, paths: int, *, allow_single_share: bool = False) -> None:
    """Refuse a (t, n) that cannot work, or t = 1 over several routes unless asked for by name."""
    if not 1 <= threshold <= paths:
        raise SharingError(f"threshold {threshold} not in 1..{paths} (the number of paths)")
    if threshold == 1 and paths > 1 and not allow_single_share:
        raise SharingError(
            f"threshold 1 over {paths} paths lets any single relay rebuild the key; "
            "set allow_single_share_reconstruction: true to ask for it"
        )


def sharing_for(
    available: int,
    paths: int | None,
    threshold: int | None,
    *,
    allow_single_share: bool = False,
) -> tuple[int, int]:
    """(t, n) for a demand with `available` node-disjoint routes.

    `paths`/`threshold` None mean the defaults above, falling back to what the graph allows;
    a configured number of paths is a requirement (SharingError when the graph has fewer).
    """
    if available < 1:
        raise SharingError("no route between the endpoints")
    if paths is None:
        n = min(DEFAULT_PATHS, available)
    elif paths > available:
        raise SharingError(f"only {available} node-disjoint routes, {paths} asked")
    else:
        n = paths
    t = default_threshold(n) if threshold is None else threshold
    check_threshold(t, n, allow_single_share=allow_single_share)
    return t, n
