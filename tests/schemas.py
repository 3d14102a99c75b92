"""JSON-schema validation for the formats with a published schema (SARIF, rdjson)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load(path: Path) -> dict[str, Any]:
    """The schema in PATH, a JSON file."""
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def validator(schema: dict[str, Any]) -> Any:
    """A validator for SCHEMA, of the draft it names, after checking SCHEMA itself."""
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def errors(check: Any, data: object) -> list[str]:
    """``path: message`` for each way DATA breaks the schema of CHECK, a validator."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(data)]
