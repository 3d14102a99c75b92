"""A shields.io endpoint badge: the heap escapes at the head and their change since the base.

The JSON follows https://shields.io/badges/endpoint-badge (schemaVersion 1, label, a message
that is never empty, a named colour). Colours: brightgreen when the count went down, green
when it stayed, orange when it grew.

Counted are the findings of a report built with every package (``all_packages``): every heap
escape at the head is a finding with a head-side status (new, indirect, unchanged, accepted,
ignored). The change is what the comparison added (new, indirect, accepted, ignored) minus
what it took away (fixed, gone from unchanged lines).
"""

from __future__ import annotations

import json
from typing import NamedTuple

from escape_guard.model import Report, Status

LABEL = "heap escapes"
_ADDED = frozenset({Status.NEW, Status.INDIRECT, Status.ACCEPTED, Status.IGNORED})
_REMOVED = frozenset({Status.FIXED, Status.INDIRECT_FIXED})


class Count(NamedTuple):
    escapes: int  # at the head
    change: int  # since the base

    @property
    def message(self) -> str:
        """``412 (+3)``, ``409 (-2)``, ``412 (±0)``."""
        change = f"{self.change:+d}" if self.change else "±0"
        return f"{self.escapes} ({change})"

    @property
    def color(self) -> str:
        if self.change < 0:
            return "brightgreen"
        return "green" if self.change == 0 else "orange"


def count(report: Report) -> Count:
    """The head's heap escapes and how many more (or fewer) than the base's."""
    head = [f for f in report.findings if f.status not in _REMOVED]
    added = sum(1 for f in report.findings if f.status in _ADDED)
    removed = sum(1 for f in report.findings if f.status in _REMOVED)
    return Count(len(head), added - removed)


def render(report: Report) -> str:
    """The endpoint JSON for ``report``."""
    found = count(report)
    badge = {"schemaVersion": 1, "label": LABEL, "message": found.message, "color": found.color}
    return json.dumps(badge, ensure_ascii=False) + "\n"
