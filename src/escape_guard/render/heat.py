"""How the machine-readable formats write a finding's heat, and read it back (JSON)."""

from __future__ import annotations

from typing import Any

from escape_guard.model import Heat


def heat_dict(heat: Heat) -> dict[str, Any]:
    """``{"flat": 177, "flat_percent": 39.86, "cum": 179, "cum_percent": 40.32, ...}``."""
    return {
        "flat": heat.flat,
        "flat_percent": round(heat.flat_percent, 2),
        "cum": heat.cum,
        "cum_percent": round(heat.cum_percent, 2),
        "samples": heat.total,
        "profile": heat.profile,
        "functions": list(heat.names),
    }
