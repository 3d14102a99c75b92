"""Hand-built records, findings and reports with sensible defaults.

    from tests.factories import finding, record, report

    r = report(finding(record(kind=Kind.MOVED, expression="v")), finding(status=Status.FIXED))

Every field can be overridden by keyword; the message follows the kind and
expression unless given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from escape_guard.model import EscapeRecord, Finding, Kind, Report, Revision, Status

BASE_SHA = "1111111111111111111111111111111111111111"
HEAD_SHA = "2222222222222222222222222222222222222222"
MERGE_BASE_SHA = "3333333333333333333333333333333333333333"

# The escape in the design notes' example review, with its -m=2 explanation.
GRAB_EXPLANATION = (
    "flow: sinkInt ← &v:",
    "  from &v (address-of) at app/main.go:29:12",
    "  from sinkInt = &v (assign) at app/main.go:29:10",
)


def message_for(kind: Kind, expression: str) -> str:
    """The compiler's wording for a heap fact."""
    if kind is Kind.MOVED:
        return f"moved to heap: {expression}"
    if kind is Kind.ESCAPE:
        return f"{expression} escapes to heap"
    return f"{expression} {kind.value}".strip()


def record(
    *,
    path: str = "app/main.go",
    line: int = 29,
    column: int = 2,
    kind: Kind = Kind.MOVED,
    expression: str = "v",
    message: str | None = None,
    function: str = "grab",
    package: str = "example.com/app",
    explanation: Sequence[str] = (),
    in_repo: bool = True,
) -> EscapeRecord:
    """An ``EscapeRecord``: by default ``moved to heap: v`` in ``grab``."""
    return EscapeRecord(
        path=path,
        line=line,
        column=column,
        kind=kind,
        expression=expression,
        message=message_for(kind, expression) if message is None else message,
        function=function,
        package=package,
        explanation=tuple(explanation),
        in_repo=in_repo,
    )


def finding(
    rec: EscapeRecord | None = None,
    *,
    status: Status = Status.NEW,
    reason: str = "",
    source: str = "v := 1",
    **fields: object,
) -> Finding:
    """A ``Finding`` of ``rec``, or of ``record(**fields)`` when no record is given."""
    if rec is None:
        rec = record(**fields)  # type: ignore[arg-type]
    elif fields:
        rec = rec._replace(**fields)
    return Finding(rec, status, reason, source)


def report(
    *findings: Finding,
    base: Revision | None = None,
    head: Revision | None = None,
    merge_base: str = MERGE_BASE_SHA,
    go_version: str = "go1.27.3",
    packages: Iterable[str] = ("./...",),
    timings: Iterable[tuple[str, float]] = (("build", 1.5), ("compare", 0.25)),
    notes: Iterable[str] = (),
) -> Report:
    """A ``Report`` of ``findings`` between ``main`` and ``feature``."""
    return Report(
        base=base or Revision("main", BASE_SHA),
        head=head or Revision("feature", HEAD_SHA),
        merge_base=merge_base,
        findings=tuple(findings),
        go_version=go_version,
        packages=tuple(packages),
        timings=tuple(timings),
        notes=tuple(notes),
    )


def mixed_report() -> Report:
    """One finding of each status that renderers show, plus one unchanged."""
    return report(
        finding(explanation=GRAB_EXPLANATION, source="sinkInt = &v"),
        finding(
            status=Status.NEW,
            path="app/main.go",
            line=40,
            column=14,
            kind=Kind.ESCAPE,
            expression="n",
            function="printIt",
            source="fmt.Println(n)",
        ),
        finding(
            status=Status.INDIRECT,
            path="lib/buf.go",
            line=12,
            column=9,
            kind=Kind.ESCAPE,
            expression="&Buffer{...}",
            function="NewBuffer",
            source="return &Buffer{}",
        ),
        finding(
            status=Status.FIXED,
            path="lib/old.go",
            line=7,
            column=2,
            expression="x",
            function="(*T).Reset",
            source="x := 0",
        ),
        finding(
            status=Status.ACCEPTED,
            path="app/cache.go",
            line=3,
            column=5,
            kind=Kind.ESCAPE,
            expression="make([]byte, n)",
            function="newCache",
            reason="sized by config",
            source="buf := make([]byte, n) //escape-guard:ignore sized by config",
        ),
        finding(status=Status.UNCHANGED, path="app/util.go", line=1, expression="w"),
    )


def off_lines_report() -> Report:
    """New findings off any repository line (generated code, GOROOT, line 0), and one on one."""
    return report(
        finding(path="", in_repo=False),
        finding(path="/usr/lib/go/src/x.go", in_repo=False),
        finding(line=0, column=0),
        finding(path="dir with space/ü.go"),
    )


def edge_reports() -> dict[str, Report]:
    """Reports whose shape a format's schema must accept, by name: the usual and the odd."""
    return {
        "mixed": mixed_report(),
        "empty": report(),
        "outside-repo": report(
            finding(path="", in_repo=False), notes=("fast path: no Go changes",)
        ),
        "odd-positions": report(
            finding(line=0, column=0), finding(function="", package="", expression="")
        ),
    }
