"""The JSON report: escape-guard's stable, machine-readable contract (version 1).

``render(report)`` writes it, ``load_report(text)`` reads it back into the same
``Report`` (findings grouped by status in the order below). Keys come in a fixed
order, lists are sorted by path, line, column and message (with a CPU profile: hottest
function first, by the cumulative then the flat share, then that order), so equal reports
give byte-identical JSON. Readers must ignore keys they do not know: later
versions of the same major ``version`` only add keys.

Top level::

    version     1
    tool        {"name": "escape-guard", "version": "0.1.0"}   informative
    base        {"ref": "main", "sha": "<40 hex>"}             the base as named
    head        {"ref": "feature", "sha": "<40 hex>"}          the compared revision; the
                working tree adds "on": the commit its changes are on top of
    merge_base  "<40 hex>"                                     what head is compared with
    go_version  "go1.27.3"  ("" when nothing was built)
    packages    ["./..."]                                      patterns that were built
    new         [finding]   on added lines: these fail the check
    fixed       [finding]   in the merge base only (base-side path and line)
    indirect    [finding]   new but on unchanged lines: caused by a change elsewhere
    accepted    [finding]   would be new; accepted by a comment or the configuration
    unchanged   [finding]   in both revisions
    ignored     [finding]   in paths or of kinds the configuration excludes
    indirect_fixed [finding]  in the merge base only, on lines the change kept (base-side
                            path and line): gone because of a change elsewhere; not fixed
    summary     {"new": n, "fixed": n, "indirect": n, "accepted": n,
                 "unchanged": n, "ignored": n, "indirect_fixed": n}
    timings     {"phase": seconds, ...}   in the order the phases ran
    compiled    {"base": n, "head": n, "other": n}   packages the go commands compiled
                (not cache hits): the repository's, by revision, and the others; only
                present when something was built
    notes       ["..."]     things the reader should know
    not_analysed [{"module": path, "directory": dir, "packages": [dir], "revisions":
                  ["base", "head"], "error": "go: ..."}]   modules the change reaches that
                the go command could not load: their packages were not compiled; only
                present when there are some
    profiles    [{"path": "cmd/app/default.pgo", "samples": 444, "source": "default.pgo"}]
                the CPU profiles heat was read from ("source": "default.pgo", "--profile"
                or "--pgo"); only present when one was read
    min_heat    1.5   --min-heat: new escapes in functions with a smaller cumulative share do
                not fail; only present when given

Finding::

    path         repository-relative POSIX path ("" for compiler-generated code)
    line         1-based line
    column       1-based column, in bytes as the Go compiler counts
    kind         "escape" (E escapes to heap) or "moved" (moved to heap: X)
    expression   the escaping expression or variable, as the compiler prints it
    function     the enclosing function ("(*T).M", "F.func#"); "" when unknown
    message      the compiler's diagnostic text
    package      the Go import path; "" when unknown
    in_repo      false for positions outside the repository (GOROOT, module cache), whose
                 path is then as -trimpath prints it (slices/sort.go, mod@v1.0.0/f.go)
    inside       the generic function of another package the compiler reported the escape
                 in ("slices.Insert"), when the finding is placed at the repository's position
                 that instantiates it; only present for those
    explanation  ["flow: ...", ...]  the -m=2 lines; only present when available
    reason       why it was accepted or ignored; only present for those
    source       the source line, trimmed; only present when known
    anchor       the changed line that introduces the escape, when it is not `line`
                 (e.g. `moved to heap: x` is reported at x's unchanged declaration
                 while the added line below takes its address)
    heat         the function's share of the CPU profile that applies to its package (new and
                 indirect findings; only present with a profile): {"flat": samples in the
                 function, "flat_percent": 39.86, "cum": samples in it and its callees,
                 "cum_percent": 40.32, "samples": the profile's, "profile": path,
                 "functions": [pprof's names counted]}; 0 and 0 when never sampled
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from escape_guard import __version__
from escape_guard.errors import EscapeGuardError
from escape_guard.model import (
    EscapeRecord,
    Finding,
    Heat,
    Kind,
    NotAnalysed,
    Profile,
    Report,
    Revision,
    Status,
    by_heat,
)
from escape_guard.render.heat import heat_dict

VERSION = 1

# The finding lists, in the order they are written and read back.
LISTS: tuple[tuple[str, Status], ...] = (
    ("new", Status.NEW),
    ("fixed", Status.FIXED),
    ("indirect", Status.INDIRECT),
    ("accepted", Status.ACCEPTED),
    ("unchanged", Status.UNCHANGED),
    ("ignored", Status.IGNORED),
    ("indirect_fixed", Status.INDIRECT_FIXED),
)


def render(report: Report) -> str:
    """The report as indented JSON, ending with a newline."""
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"


def to_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data in the contract's key order."""
    lists = {name: by_heat(report.with_status(status)) for name, status in LISTS}
    return {
        "version": VERSION,
        "tool": {"name": "escape-guard", "version": __version__},
        "base": _revision(report.base),
        "head": _revision(report.head),
        "merge_base": report.merge_base,
        "go_version": report.go_version,
        "packages": list(report.packages),
        **{name: [finding_dict(f) for f in found] for name, found in lists.items()},
        "summary": {name: len(found) for name, found in lists.items()},
        "timings": dict(report.timings),
        **({"compiled": dict(report.compiled)} if report.compiled else {}),
        "notes": list(report.notes),
        **({"platforms": list(report.platforms)} if report.platforms else {}),
        **(
            {"not_analysed": [_not_analysed(n) for n in report.not_analysed]}
            if report.not_analysed
            else {}
        ),
        **({"profiles": [_profile(p) for p in report.profiles]} if report.profiles else {}),
        **({"min_heat": report.min_heat} if report.min_heat is not None else {}),
    }


def _profile(profile: Profile) -> dict[str, Any]:
    return {"path": profile.path, "samples": profile.samples, "source": profile.source}


def _load_profiles(doc: Mapping[str, Any]) -> list[Profile]:
    found = []
    for i, item in enumerate(_list(doc, "profiles")):
        where = f"profiles[{i}]"
        entry = _object(item, where)
        found.append(
            Profile(
                _str(entry, "path", where=where),
                _int(entry, "samples", where),
                _str(entry, "source", "default.pgo", where=where),
            )
        )
    return found


def _load_heat(obj: Mapping[str, Any], where: str) -> Heat | None:
    if "heat" not in obj:
        return None
    at = f"{where}.heat"
    heat = _object(obj["heat"], at)
    return Heat(
        flat=_int(heat, "flat", at),
        cum=_int(heat, "cum", at),
        total=_int(heat, "samples", at),
        profile=_str(heat, "profile", where=at),
        names=tuple(_strings(heat, "functions", where=at)),
    )


def _min_heat(doc: Mapping[str, Any]) -> float | None:
    value = doc.get("min_heat")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(f"min_heat: expected a percentage, got {value!r}")
    return float(value)


def _not_analysed(entry: NotAnalysed) -> dict[str, Any]:
    return {
        "module": entry.module,
        "directory": entry.directory,
        "packages": list(entry.packages),
        "revisions": list(entry.revisions),
        "error": entry.error,
    }


def _load_not_analysed(doc: Mapping[str, Any]) -> list[NotAnalysed]:
    found = []
    for i, item in enumerate(_list(doc, "not_analysed")):
        where = f"not_analysed[{i}]"
        entry = _object(item, where)
        found.append(
            NotAnalysed(
                module=_str(entry, "module", where=where),
                directory=_str(entry, "directory", "", where=where),
                packages=tuple(_strings(entry, "packages")),
                revisions=tuple(_strings(entry, "revisions")),
                error=_str(entry, "error", "", where=where),
            )
        )
    return found


def finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding in the contract's key order."""
    record = finding.record
    data: dict[str, Any] = {
        "path": record.path,
        "line": record.line,
        "column": record.column,
        "kind": record.kind.value,
        "expression": record.expression,
        "function": record.function,
        "message": record.message,
        "package": record.package,
        "in_repo": record.in_repo,
    }
    if record.inside:
        data["inside"] = record.inside
    if record.explanation:
        data["explanation"] = list(record.explanation)
    if finding.reason or finding.status in (Status.ACCEPTED, Status.IGNORED):
        data["reason"] = finding.reason
    if finding.source:
        data["source"] = finding.source
    if finding.anchor and finding.anchor != record.line:
        data["anchor"] = finding.anchor
    if finding.platforms:
        data["platforms"] = list(finding.platforms)
    if finding.heat:
        data["heat"] = heat_dict(finding.heat)
    return data


def error_document(message: str, exit_code: int) -> str:
    """What ``--format json`` prints instead of a report when the run fails."""
    document = {
        "version": VERSION,
        "tool": {"name": "escape-guard", "version": __version__},
        "error": message,
        "exit_code": exit_code,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_report(text: str) -> Report:
    """Read a JSON report written by ``render`` (any version-1 writer) back into a Report."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _invalid(f"not JSON ({exc})") from exc
    doc = _object(data, "the report")
    if doc.get("version") != VERSION:
        raise _invalid(f"unsupported version {doc.get('version')!r} (this reader knows {VERSION})")
    findings = [
        _finding(item, status, f"{name}[{i}]")
        for name, status in LISTS
        for i, item in enumerate(_list(doc, name))
    ]
    return Report(
        base=_load_revision(doc, "base"),
        head=_load_revision(doc, "head"),
        merge_base=_str(doc, "merge_base"),
        findings=tuple(findings),
        go_version=_str(doc, "go_version", ""),
        packages=tuple(_strings(doc, "packages")),
        timings=tuple(_timings(doc)),
        compiled=tuple(_compiled(doc)),
        notes=tuple(_strings(doc, "notes")),
        platforms=tuple(_strings(doc, "platforms")),
        not_analysed=tuple(_load_not_analysed(doc)),
        profiles=tuple(_load_profiles(doc)),
        min_heat=_min_heat(doc),
    )


def _revision(revision: Revision) -> dict[str, str]:
    data = {"ref": revision.ref, "sha": revision.sha}
    return {**data, "on": revision.on} if revision.on else data


def _load_revision(doc: Mapping[str, Any], key: str) -> Revision:
    rev = _object(doc.get(key), key)
    return Revision(
        ref=_str(rev, "ref", "", where=key),
        sha=_str(rev, "sha", where=key),
        on=_str(rev, "on", "", where=key),
    )


def _finding(item: Any, status: Status, where: str) -> Finding:
    obj = _object(item, where)
    try:
        kind = Kind(_str(obj, "kind", where=where))
    except ValueError as exc:
        raise _invalid(f"{where}: unknown kind {obj.get('kind')!r}") from exc
    record = EscapeRecord(
        path=_str(obj, "path", where=where),
        line=_int(obj, "line", where),
        column=_int(obj, "column", where),
        kind=kind,
        expression=_str(obj, "expression", "", where=where),
        message=_str(obj, "message", "", where=where),
        function=_str(obj, "function", "", where=where),
        package=_str(obj, "package", "", where=where),
        explanation=tuple(_strings(obj, "explanation", where=where)),
        in_repo=_bool(obj, "in_repo", where),
        inside=_str(obj, "inside", "", where=where),
    )
    return Finding(
        record,
        status,
        reason=_str(obj, "reason", "", where=where),
        source=_str(obj, "source", "", where=where),
        anchor=_int(obj, "anchor", where) if "anchor" in obj else 0,
        platforms=tuple(_strings(obj, "platforms", where=where)),
        heat=_load_heat(obj, where),
    )


def _timings(doc: Mapping[str, Any]) -> list[tuple[str, float]]:
    timings = _object(doc.get("timings", {}), "timings")
    pairs = []
    for phase, seconds in timings.items():
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise _invalid(f"timings.{phase}: expected seconds, got {seconds!r}")
        pairs.append((phase, float(seconds)))
    return pairs


def _compiled(doc: Mapping[str, Any]) -> list[tuple[str, int]]:
    compiled = _object(doc.get("compiled", {}), "compiled")
    return [(side, _int(compiled, side, "compiled")) for side in compiled]


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(f"{where}: expected an object")
    return value


def _list(doc: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise _invalid(f"{_at(where, key)}: expected a list")
    return value


def _strings(doc: Mapping[str, Any], key: str, where: str = "") -> list[str]:
    values = _list(doc, key, where)
    if not all(isinstance(v, str) for v in values):
        raise _invalid(f"{_at(where, key)}: expected a list of strings")
    return values


def _str(doc: Mapping[str, Any], key: str, default: str | None = None, *, where: str = "") -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        raise _invalid(f"{_at(where, key)}: expected a string")
    return value


def _int(doc: Mapping[str, Any], key: str, where: str) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{_at(where, key)}: expected an integer")
    return value


def _bool(doc: Mapping[str, Any], key: str, where: str) -> bool:
    value = doc.get(key, True)
    if not isinstance(value, bool):
        raise _invalid(f"{_at(where, key)}: expected true or false")
    return value


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _invalid(problem: str) -> EscapeGuardError:
    return EscapeGuardError(f"not an escape-guard JSON report: {problem}")
