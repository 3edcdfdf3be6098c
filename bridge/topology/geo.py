"""Distances and positions on the Earth and in the plane.

Why haversine on a sphere: topology files give city- or site-level coordinates (Topology Zoo
rounds to ~100 m), so the 0.3 % difference between a sphere and the WGS-84 ellipsoid is far below
the uncertainty of where the fibre actually runs. Fibre routes are longer than the great circle;
callers that know a route factor apply it themselves.
"""

from __future__ import annotations

import math

#: IUGG mean Earth radius R1 (km).
EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1_deg: float, lon1_deg: float, lat2_deg: float, lon2_deg: float) -> float:
    """Great-circle distance between two points given in degrees (haversine formula)."""
    phi1, phi2 = math.radians(lat1_deg), math.radians(lat2_deg)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2_deg - lon1_deg)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def euclidean_km(x1_km: float, y1_km: float, x2_km: float, y2_km: float) -> float:
    """Straight-line distance in a plane measured in km (synthetic topologies)."""
    return math.hypot(x2_km - x1_km, y2_km - y1_km)


def interpolate_great_circle(
    lat1_deg: float, lon1_deg: float, lat2_deg: float, lon2_deg: float, fraction: float
) -> tuple[float, float]:
    """The point `fraction` of the way along the great circle from point 1 to point 2.

    Used to place intermediate relays of a long-haul link evenly along the route when a source
    gives their number but not their sites (spherical linear interpolation of unit vectors).
    """
    p1 = _unit_vector(lat1_deg, lon1_deg)
    p2 = _unit_vector(lat2_deg, lon2_deg)
    omega = math.acos(max(-1.0, min(1.0, sum(a * b for a, b in zip(p1, p2, strict=True)))))
    if omega == 0.0:
        return lat1_deg, lon1_deg
    w1 = math.sin((1 - fraction) * omega) / math.sin(omega)
    w2 = math.sin(fraction * omega) / math.sin(omega)
    x, y, z = (w1 * a + w2 * b for a, b in zip(p1, p2, strict=True))
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def _unit_vector(lat_deg: float, lon_deg: float) -> tuple[float, float, float]:
    phi, lmb = math.radians(lat_deg), math.radians(lon_deg)
    return (math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi))
