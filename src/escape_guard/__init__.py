"""escape-guard: report the heap escapes a Go change introduces."""

from __future__ import annotations

__version__ = "0.1.0"
