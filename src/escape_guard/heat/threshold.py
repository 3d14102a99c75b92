"""The ``--min-heat`` / ``min-heat`` value: a share of a profile's CPU samples, in percent."""

from __future__ import annotations

import math


def parse_percent(text: str) -> float:
    """``"1.5"`` or ``"1.5%"`` → 1.5; ValueError naming what is wrong otherwise."""
    stripped = text.strip().removesuffix("%").strip()
    try:
        value = float(stripped)
    except ValueError:
        raise ValueError(f"expected a percentage such as 1 or 0.5%, got {text!r}") from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise ValueError(f"expected a percentage from 0 to 100, got {text!r}")
    return value
