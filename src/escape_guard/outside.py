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
from escape_guard.records.functions import FunctionIndex, fold_function, function_index
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
    sides = {"head": _Searched(head), "base": _Searched(base)}
    functions = _Functions(library)
    for finding in findings:
        record = finding.record
        if record.in_repo or not record.path or not record.is_heap:
            placed.append(finding)
            continue
        side = sides["head" if finding.status in _HEAD_SIDE else "base"]
        origin = _origin(record, functions)
        site = side.site(record.package, origin) if origin else None
        if site is not None:
            placed.append(_moved(finding, origin, site, side.side, linemap))
        elif finding.status in _CHANGED:
            named = origin or _package_of(record.path)
            lost[named] = lost.get(named, 0) + 1
        else:
            placed.append(finding)
    return placed, _notes(lost)


class _Searched:
    """One side, searched once per package and function: many escapes inside one generic
    function share its site, and a side holds every record its build printed."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self._sites: dict[tuple[str, str], _Site | None] = {}
        self._records: dict[str, list[EscapeRecord]] | None = None

    def site(self, package: str, origin: str) -> _Site | None:
        """Where the repository's ``package`` instantiates the function ``origin``."""
        key = (package, origin)
        if key not in self._sites:
            records = self._in_repo(package)
            self._sites[key] = _named_by_compiler(origin, records) or _called_in_source(
                records, origin, self.side.sources
            )
        return self._sites[key]

    def _in_repo(self, package: str) -> list[EscapeRecord]:
        """The records printed for ``package`` at positions in the repository."""
        if self._records is None:
            self._records = {}
            for r in self.side.records:
                if r.in_repo:
                    self._records.setdefault(r.package, []).append(r)
        return self._records.get(package, [])


def _origin(record: EscapeRecord, functions: _Functions) -> str:
    """``slices.Insert``: the function the record is in, qualified by its import path."""
    package = _package_of(record.path)
    function = fold_function(record.function or functions.at(record.path, record.line))
    return f"{package}.{function}" if package and function else ""


class _Functions:
    """The functions of files outside the repository, each file read and indexed once."""

    def __init__(self, library: Library) -> None:
        self._library = library
        self._indexes: dict[str, FunctionIndex | None] = {}

    def at(self, path: str, line: int) -> str:
        """The function ``line`` of the file ``path`` is in; "" when unknown."""
        if path not in self._indexes:
            text = self._library(path)
            self._indexes[path] = function_index(text) if text else None
        index = self._indexes[path]
        return index.at(line) if index else ""


def _package_of(path: str) -> str:
    """The import path of the package a file outside the repository is in."""
    directory = posixpath.dirname(path)
    module, at, rest = directory.partition("@")
    if not at:
        return directory
    inner = rest.partition("/")[2]
    return f"{module}/{inner}" if inner else module


def _named_by_compiler(origin: str, records: Iterable[EscapeRecord]) -> _Site | None:
    """The first position the package's ``records`` name as a call of ``origin``."""
    sites: list[_Site] = []
    call = re.compile(rf"(?<![\w/.]){re.escape(origin)}(?:\[|\()")
    for r in records:
        if r.kind is Kind.INLINING and call.match(r.expression + "("):
            sites.append(_Site(r.path, r.line, r.column))
        for step in r.explanation:
            found = _POSITION.search(step)
            if found and call.search(step[: found.start()]) and _in_repo_path(found["path"]):
                sites.append(_Site(found["path"], int(found["line"]), int(found["column"])))
    return min(sites) if sites else None


def _in_repo_path(path: str) -> bool:
    return not path.startswith(("/", "…")) and "@" not in path


def _called_in_source(
    records: Sequence[EscapeRecord], origin: str, sources: SourceCache
) -> _Site | None:
    """The first call of ``origin`` in the files of the package ``records`` were printed for
    (at positions in the repository)."""
    directory = next((posixpath.dirname(r.path) for r in records if r.path), None)
    if directory is None:
        return None
    package, _, name = origin.rpartition(".")
    if "(" in name or "." in name:
        return None  # a method: the call names a value, not the package
    for file in sorted(sources.names(directory)):
        if not file.endswith(".go") or file.endswith("_test.go"):
            continue
        path = posixpath.join(directory, file) if directory else file
        lines = sources.read(path)
        alias = _import_name("\n".join(lines), package)
        if alias is None:
            continue
        call = re.compile(rf"(?<![\w.]){re.escape(alias)}\s*\.\s*{re.escape(name)}\b")
        for number, text in enumerate(lines, start=1):
            found = call.search(text.split("//", 1)[0])
            if found:
                return _Site(path, number, found.start() + 1)
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
