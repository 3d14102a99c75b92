"""Escapes the compiler reports outside the repository, placed where the repository caused them.

A generic function of another package (``slices.Insert``, a module's ``Map``) is compiled
for the repository's types in the repository's package, and the compiler reports the
escapes inside its body at the body's own position: ``slices/slices.go:145``. Nobody can
act on a line of the toolchain, link to it or comment on it. So a finding there is moved to
the position in the repository that instantiates it, the first one found of:

1. a position the compiler names: where it inlined that function (``inlining call to
   slices.Insert[...]``), or a step of an ``-m=2`` flow that calls it;
2. a call of it in the package's own files (``slices.Insert(`` with the file's name for the
   import).

It keeps what the compiler said and gains ``inside``: the function it is in. Placed on an
added line it is new, on an unchanged one indirect (a base record: fixed on a removed or
edited line, else gone from an unchanged one). A finding no position is found for (a helper
the instantiated function calls, several calls deep) is left out of the findings and counted
in a note: there is no line to report it on.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from escape_guard.builds.goimports import import_specs
from escape_guard.diffmap import LineMap
from escape_guard.model import EscapeRecord, Finding, Kind, Status
from escape_guard.records.functions import fold_function, function_index
from escape_guard.records.hints import generic_code
from escape_guard.sources import SourceCache

Library = Callable[[str], "str | None"]
"""The text of a file outside the repository, by the path records give it; None: unknown."""

_HEAD_SIDE = frozenset({Status.NEW, Status.INDIRECT, Status.UNCHANGED})
_CHANGED = frozenset({Status.NEW, Status.INDIRECT, Status.FIXED, Status.INDIRECT_FIXED})
_POSITION = re.compile(r" at (?P<path>[^\s:]+):(?P<line>\d+):(?P<column>\d+)$")


class Side(NamedTuple):
    """One revision's records (all kinds) and sources, to look for positions in."""

    records: Sequence[EscapeRecord]
    sources: SourceCache


class _Site(NamedTuple):
    path: str
    line: int
    column: int


def place(
    findings: Iterable[Finding],
    linemap: LineMap,
    *,
    head: Side,
    base: Side,
    library: Library,
) -> tuple[list[Finding], list[str]]:
    """The findings with every one outside the repository placed in it, and a note on those
    that could not be."""
    placed: list[Finding] = []
    lost: dict[str, int] = {}
    for finding in findings:
        record = finding.record
        if record.in_repo or not record.path or not record.is_heap:
            placed.append(finding)
            continue
        side = head if finding.status in _HEAD_SIDE else base
        origin = _origin(record, library)
        site = _site(record, origin, side) if origin else None
        if site is not None:
            placed.append(_moved(finding, origin, site, side, linemap))
        elif finding.status in _CHANGED:
            named = origin or _package_of(record.path)
            lost[named] = lost.get(named, 0) + 1
        else:
            placed.append(finding)
    return placed, _notes(lost)


def _origin(record: EscapeRecord, library: Library) -> str:
    """``slices.Insert``: the function the record is in, qualified by its import path."""
    package = _package_of(record.path)
    function = record.function
    if not function:
        text = library(record.path)
        function = function_index(text).at(record.line) if text else ""
    function = fold_function(function)
    return f"{package}.{function}" if package and function else ""


def _package_of(path: str) -> str:
    """The import path of the package a file outside the repository is in."""
    directory = posixpath.dirname(path)
    module, at, rest = directory.partition("@")
    if not at:
        return directory
    inner = rest.partition("/")[2]
    return f"{module}/{inner}" if inner else module


def _site(record: EscapeRecord, origin: str, side: Side) -> _Site | None:
    return _named_by_compiler(record.package, origin, side.records) or _called_in_source(
        record, origin, side
    )


def _named_by_compiler(package: str, origin: str, records: Iterable[EscapeRecord]) -> _Site | None:
    sites: list[_Site] = []
    call = re.compile(rf"(?<![\w/.]){re.escape(origin)}(?:\[|\()")
    for r in records:
        if not r.in_repo or r.package != package:
            continue
        if r.kind is Kind.INLINING and call.match(r.expression + "("):
            sites.append(_Site(r.path, r.line, r.column))
        for step in r.explanation:
            found = _POSITION.search(step)
            if found and call.search(step[: found.start()]) and _in_repo_path(found["path"]):
                sites.append(_Site(found["path"], int(found["line"]), int(found["column"])))
    return min(sites) if sites else None


def _in_repo_path(path: str) -> bool:
    return not path.startswith(("/", "…")) and "@" not in path


def _called_in_source(record: EscapeRecord, origin: str, side: Side) -> _Site | None:
    """The first call of ``origin`` in the files of the package the record was printed for."""
    directory = _directory(record.package, side.records)
    if directory is None:
        return None
    package, _, name = origin.rpartition(".")
    if "(" in name or "." in name:
        return None  # a method: the call names a value, not the package
    for file in sorted(side.sources.names(directory)):
        if not file.endswith(".go") or file.endswith("_test.go"):
            continue
        path = posixpath.join(directory, file) if directory else file
        lines = side.sources.read(path)
        alias = _import_name("\n".join(lines), package)
        if alias is None:
            continue
        call = re.compile(rf"(?<![\w.]){re.escape(alias)}\s*\.\s*{re.escape(name)}\b")
        for number, text in enumerate(lines, start=1):
            found = call.search(text.split("//", 1)[0])
            if found:
                return _Site(path, number, found.start() + 1)
    return None


def _directory(package: str, records: Iterable[EscapeRecord]) -> str | None:
    """The repository directory of ``package``, from any record printed for it there."""
    for r in records:
        if r.package == package and r.in_repo and r.path:
            return posixpath.dirname(r.path)
    return None


def _import_name(source: str, package: str) -> str | None:
    """The name a file calls ``package`` by; None when it does not import it."""
    for spec in import_specs(source) or ():
        if spec.path == package:
            before = source[: spec.start].rsplit("\n", 1)[-1].split()
            alias = before[-1] if before and before[-1] not in ("import", "(") else ""
            if alias in ("_", "."):
                return None
            return alias or package.rsplit("/", 1)[-1]
    return None


def _moved(finding: Finding, origin: str, site: _Site, side: Side, linemap: LineMap) -> Finding:
    record = finding.record._replace(
        path=site.path,
        line=site.line,
        column=site.column,
        function=fold_function(side.sources.function_at(site.path, site.line)),
        in_repo=True,
        inside=origin,
        explanation=(),
    )
    status = finding.status
    if status in (Status.NEW, Status.INDIRECT):
        status = Status.NEW if linemap.is_added(site.path, site.line) else Status.INDIRECT
    elif status in (Status.FIXED, Status.INDIRECT_FIXED):
        kept = linemap.new_line(site.path, site.line) is not None
        status = Status.INDIRECT_FIXED if kept else Status.FIXED
    return finding._replace(record=record, status=status, anchor=0)


def _notes(lost: dict[str, int]) -> list[str]:
    if not lost:
        return []
    total = sum(lost.values())
    where = ", ".join(f"`{origin}` ({n})" for origin, n in sorted(lost.items()))
    whose = {generic_code(origin) for origin in lost}
    code = whose.pop() if len(whose) == 1 else "generic code of other packages"
    noun = "escape" if total == 1 else "escapes"
    return [
        f"{total} {noun} inside {code} changed; not attributable to a line of the repository "
        f"(no call of the function the compiler reports them in was found): {where}"
    ]
