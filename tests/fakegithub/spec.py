"""The OpenAPI subset: routing requests to operations and checking bodies against schemas."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema

SUBSET_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "openapi-subset.json"

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    # GitHub documents YYYY-MM-DDTHH:MM:SSZ; fromisoformat accepts that and offsets.
    if isinstance(value, str):
        datetime.fromisoformat(value)
        if "T" not in value:
            raise ValueError(f"{value!r} has no time part")
    return True


@dataclass(frozen=True)
class Operation:
    """One REST operation of the subset."""

    id: str
    method: str
    path: str
    documentation_url: str
    query: tuple[str, ...]
    body_required: bool
    body_schema: dict[str, Any] | None
    responses: dict[str, Any]
    pattern: re.Pattern[str]

    def response_schema(self, status: int) -> dict[str, Any] | None:
        """The documented JSON schema for a response status, if any."""
        entry = self.responses.get(str(status))
        return None if entry is None else entry.get("schema")


@dataclass(frozen=True)
class Problem:
    """Why a request body does not match its operation's schema."""

    kind: str  # "schema" answers 422; "unknown-key" is accepted, as GitHub ignores it
    message: str


def _pattern(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    # A ref such as "heads/main" contains slashes.
    regex = regex.replace("(?P<ref>[^/]+)", "(?P<ref>.+?)")
    return re.compile(f"^{regex}$")


class Spec:
    """Operations loaded from tests/fixtures/github/openapi-subset.json."""

    def __init__(self, path: Path = SUBSET_PATH) -> None:
        data = json.loads(path.read_text())
        self.source: dict[str, Any] = data["source"]
        self.operations: dict[str, Operation] = {}
        self._validators: dict[tuple[str, str], jsonschema.Draft7Validator] = {}
        for op_id, raw in data["operations"].items():
            body = raw["request_body"]
            self.operations[op_id] = Operation(
                id=op_id,
                method=raw["method"],
                path=raw["path"],
                documentation_url=raw["documentation_url"],
                query=tuple(raw["query"]),
                body_required=bool(body and body["required"]),
                body_schema=body["schema"] if body else None,
                responses=raw["responses"],
                pattern=_pattern(raw["path"]),
            )

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation serving METHOD PATH and its path parameters."""
        for op in self.operations.values():
            found = op.pattern.match(path) if op.method == method else None
            if found:
                return op, found.groupdict()
        return None

    def check_request(self, op: Operation, body: Any) -> list[Problem]:
        """Schema problems of a request body, in GitHub's "Invalid request" wording."""
        if op.body_schema is None:
            return []
        if body is None:
            return [Problem("schema", "Request body is required.")] if op.body_required else []
        validator = self._validator(op.id, "request", op.body_schema)
        problems = [Problem("schema", _wording(e)) for e in validator.iter_errors(body)]
        problems += [Problem("unknown-key", m) for m in _unknown_keys(op.body_schema, body, "")]
        return problems

    def check_response(self, op: Operation, status: int, body: Any) -> list[str]:
        """Where a response body departs from the documented schema (checks the fake)."""
        schema = op.response_schema(status)
        if schema is None:
            return []
        validator = self._validator(op.id, str(status), schema)
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)
        ]

    def _validator(
        self, op_id: str, which: str, schema: dict[str, Any]
    ) -> jsonschema.Draft7Validator:
        key = (op_id, which)
        if key not in self._validators:
            self._validators[key] = jsonschema.Draft7Validator(schema, format_checker=_FORMATS)
        return self._validators[key]


def _ruby(value: Any) -> str:
    # GitHub's validator is Ruby: null prints as nil.
    return "nil" if value is None else json.dumps(value)


def _wording(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    field = f"For 'properties/{where}'," if where else "For the body,"
    value, limit = error.instance, error.validator_value
    if error.validator == "required":
        missing = next(k for k in limit if k not in value)
        return f"{_ruby(missing)} wasn't supplied."
    wording = {
        # Observed wording of GitHub's answer for an over-long check-run summary.
        "maxLength": lambda: f"Only {limit} characters are allowed; {len(value)} were supplied.",
        "maxItems": lambda: f"{field} only {limit} items are allowed; {len(value)} were supplied.",
        "enum": lambda: f"{field} {_ruby(value)} is not a member of {json.dumps(limit)}.",
        "type": lambda: f"{field} {_ruby(value)} is not {_article(limit)}.",
        "anyOf": lambda: 'No subschema in "anyOf" matched.',
        "oneOf": lambda: 'No subschema in "oneOf" matched.',
    }
    return wording.get(str(error.validator), lambda: f"{field} {error.message}")()


def _article(kind: Any) -> str:
    name = kind if isinstance(kind, str) else " or ".join(kind)
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _unknown_keys(schema: dict[str, Any], value: Any, where: str) -> list[str]:
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [
            message
            for index, item in enumerate(value)
            for message in _unknown_keys(schema["items"], item, f"{where}{index}/")
        ]
    props = schema.get("properties")
    if not isinstance(value, dict) or props is None or "additionalProperties" in schema:
        return []
    messages = [f'"{where}{key}" is not a documented key.' for key in value if key not in props]
    for key, sub in value.items():
        if key in props:
            messages += _unknown_keys(props[key], sub, f"{where}{key}/")
    return messages
