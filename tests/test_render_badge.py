"""The count badge's shields.io endpoint JSON."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from escape_guard.model import Status
from escape_guard.render import badge
from tests.factories import finding, report

# https://shields.io/badges/endpoint-badge: schemaVersion is always 1, label a string (empty
# omits the left side), message a string that is not empty, color a named or a hex colour.
NAMED_COLORS = (
    "brightgreen|green|yellowgreen|yellow|orange|red|blue|lightgrey|success|important|"
    "critical|informational|inactive"
)
ENDPOINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {
            "type": "string",
            "pattern": f"^({NAMED_COLORS}|#[0-9a-fA-F]{{3}}|#[0-9a-fA-F]{{6}})$",
        },
        "isError": {"type": "boolean"},
        "cacheSeconds": {"type": "integer", "minimum": 300},
    },
    "additionalProperties": False,
}


def _findings(**counts: int) -> list[Any]:
    made = []
    for status, n in counts.items():
        for i in range(n):
            made.append(finding(status=Status(status.replace("_", "-")), line=i + 1))
    return made


@pytest.mark.parametrize(
    ("counts", "message", "color"),
    [
        ({"unchanged": 409, "new": 2, "indirect": 1, "fixed": 0}, "412 (+3)", "orange"),
        ({"unchanged": 10, "fixed": 2, "indirect_fixed": 1}, "10 (-3)", "brightgreen"),
        ({"unchanged": 5, "new": 1, "fixed": 1}, "6 (±0)", "green"),
        ({"unchanged": 3, "accepted": 1, "ignored": 1}, "5 (+2)", "orange"),
        ({}, "0 (±0)", "green"),
    ],
)
def test_count_message_and_colour(counts: dict[str, int], message: str, color: str) -> None:
    rendered = badge.render(report(*_findings(**counts)))
    document = json.loads(rendered)
    jsonschema.validate(document, ENDPOINT_SCHEMA)
    assert document == {
        "schemaVersion": 1,
        "label": "heap escapes",
        "message": message,
        "color": color,
    }
    assert rendered.endswith("}\n")


def test_count_is_the_heads_escapes_and_the_change() -> None:
    found = badge.count(report(*_findings(unchanged=4, new=3, fixed=1, indirect_fixed=1)))
    assert (found.escapes, found.change) == (7, 1)
