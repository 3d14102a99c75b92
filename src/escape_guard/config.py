"""The ``.escape-guard.yml`` configuration file.

Example::

    packages: ["./..."]          # package patterns, relative to the repository root
    tags: [integration]          # build tags
    ignore: ["**/*_gen.go"]      # head paths whose escapes are never reported
    report: [escape, moved]      # kinds that count as new escapes
    fail-on: new                 # new | indirect | none
    accept:                      # escapes that are known and fine
      - path: internal/pool/*.go
        function: "(*Pool).Get"  # optional; globs allowed
        expression: buf          # optional; globs allowed
        kind: moved              # optional
        reason: pooled buffers outlive the call by design
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from escape_guard.errors import UsageError
from escape_guard.globs import matches
from escape_guard.model import EscapeRecord, Finding, Kind, Report, Status

FILE_NAME = ".escape-guard.yml"
FAIL_ON = ("new", "indirect", "none")
# The statuses each fail-on value fails on: the one rule behind exit codes and check runs.
FAILING: Mapping[str, tuple[Status, ...]] = {
    "new": (Status.NEW,),
    "indirect": (Status.NEW, Status.INDIRECT),
    "none": (),
}


def failing(report: Report, fail_on: str) -> list[Finding]:
    """The findings that fail the check under ``fail_on`` (none colder than ``--min-heat``)."""
    return [f for f in report.with_status(*FAILING[fail_on]) if not report.below_min_heat(f)]


REPORTABLE = (Kind.ESCAPE.value, Kind.MOVED.value)


@dataclass(frozen=True)
class Accept:
    """An escape the team has accepted; every given field must match."""

    path: str
    function: str = "*"
    expression: str = "*"
    kind: str = "*"
    reason: str = ""

    def matches(self, record: EscapeRecord) -> bool:
        return (
            matches(record.path, self.path)
            and fnmatch.fnmatchcase(record.function, self.function)
            and fnmatch.fnmatchcase(record.expression, self.expression)
            and self.kind in ("*", record.kind.value)
        )


@dataclass(frozen=True)
class Config:
    packages: tuple[str, ...] = ("./...",)
    tags: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    report: tuple[str, ...] = REPORTABLE
    fail_on: str = "new"
    accept: tuple[Accept, ...] = ()
    source: str = ""  # the file it came from, "" for defaults

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with every non-None keyword applied (command-line flags win)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def ignores(self, record: EscapeRecord) -> str:
        """Why the record is ignored, or "" when it is not."""
        if record.kind.value not in self.report:
            return f"kind {record.kind.value} is not reported (report: in {self.source})"
        for pattern in self.ignore:
            if matches(record.path, pattern):
                return f"path matches ignore pattern {pattern!r}"
        return ""

    def accepts(self, record: EscapeRecord) -> str:
        """The reason of the first accept entry matching the record, or ""."""
        for entry in self.accept:
            if entry.matches(record):
                return entry.reason or f"accepted in {self.source}"
        return ""


def load(repo_root: str, explicit: str | None = None) -> Config:
    """``--config``, else ``.escape-guard.yml`` at the root, else the defaults."""
    path = explicit or os.path.join(repo_root, FILE_NAME)
    if not os.path.isfile(path):
        if explicit:
            raise UsageError(f"configuration file {explicit} does not exist")
        return Config()
    import yaml  # noqa: PLC0415 - imported here: most repositories have no config file

    with open(path, encoding="utf-8") as fh:
        try:
            data = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise UsageError(f"{path}: not valid YAML: {exc}") from exc
    return parse(data, source=path)


def parse(data: object, *, source: str) -> Config:
    """Validate loaded YAML; errors name the key and the file."""
    if data is None:
        return Config(source=source)
    if not isinstance(data, Mapping):
        raise UsageError(f"{source}: the top level must be a mapping of keys to values")
    known = {"packages", "tags", "ignore", "report", "fail-on", "accept"}
    for key in data:
        if key not in known:
            raise UsageError(
                f"{source}: unknown key {key!r} (known keys: {', '.join(sorted(known))})"
            )
    report = _strings(data, "report", source) or REPORTABLE
    for kind in report:
        if kind not in REPORTABLE:
            raise UsageError(
                f"{source}: report: {kind!r} is not a kind (use {' or '.join(REPORTABLE)})"
            )
    fail_on = data.get("fail-on", "new")
    if fail_on not in FAIL_ON:
        raise UsageError(f"{source}: fail-on: must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    return Config(
        packages=_strings(data, "packages", source) or ("./...",),
        tags=_strings(data, "tags", source),
        ignore=_strings(data, "ignore", source),
        report=report,
        fail_on=str(fail_on),
        accept=tuple(
            _accept(item, i, source) for i, item in enumerate(_list(data, "accept", source))
        ),
        source=source,
    )


def _list(data: Mapping[str, object], key: str, source: str) -> Sequence[object]:
    value = data.get(key, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise UsageError(f"{source}: {key}: expected a list, got {type(value).__name__}")
    return value


def _strings(data: Mapping[str, object], key: str, source: str) -> tuple[str, ...]:
    items = _list(data, key, source)
    for item in items:
        if not isinstance(item, str) or not item:
            raise UsageError(
                f"{source}: {key}: every entry must be a non-empty string, got {item!r}"
            )
    return tuple(str(item) for item in items)


_ACCEPT_KEYS = ("path", "function", "expression", "kind", "reason")


def _accept(item: object, index: int, source: str) -> Accept:
    where = f"{source}: accept[{index}]"
    if not isinstance(item, Mapping):
        raise UsageError(f"{where}: expected a mapping with keys {', '.join(_ACCEPT_KEYS)}")
    for key, value in item.items():
        if key not in _ACCEPT_KEYS:
            raise UsageError(
                f"{where}: unknown key {key!r} (known keys: {', '.join(_ACCEPT_KEYS)})"
            )
        if not isinstance(value, str):
            raise UsageError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    if "path" not in item:
        raise UsageError(f"{where}: 'path' is required (a glob such as 'pkg/**/*.go')")
    kind = item.get("kind", "*")
    if kind not in (*REPORTABLE, "*"):
        raise UsageError(f"{where}.kind: must be {' or '.join(REPORTABLE)}, not {kind!r}")
    return Accept(**{k: str(v) for k, v in item.items()})
