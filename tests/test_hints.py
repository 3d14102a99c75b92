from __future__ import annotations

import io
import json

import pytest

from escape_guard.action.workflow import Runner
from escape_guard.model import Kind, Status
from escape_guard.publish import checks
from escape_guard.records.hints import Flow, Inlined, Step, hint, inlined, parse_flows, subject
from escape_guard.render import markdown, sarif, text
from tests.factories import GRAB_EXPLANATION, finding, record, report

# Explanations as the parser keeps them: the -m=2 lines after "path:line:col:   ".
# Captured from go1.27.3 (`flow: a ← b`) unless marked older (`flow: a = b`).
GLOBAL = (
    "flow: {heap} ← &v:",
    "  from &v (address-of) at ./main.go:13:12",
    "  from sinkInt = &v (assign) at ./main.go:13:10",
)
RETURNED_VAR = (
    "flow: ~r0 ← &x:",
    "  from &x (address-of) at ./main.go:22:9",
    "  from return &x (return) at ./main.go:22:2",
)
RETURNED_VAR_OLD = (
    "flow: ~r0 = &x:",
    "  from &x (address-of) at ./main.go:22:9",
    "  from return &x (return) at ./main.go:22:2",
)
RETURNED_LITERAL = (
    "flow: ~r0 ← &{storage for &T{...}}:",
    "  from &T{...} (spill) at ./main.go:17:9",
    "  from return &T{...} (return) at ./main.go:17:2",
)
FMT = (
    "flow: {storage for ... argument} ← &{storage for n}:",
    "  from n (spill) at ./main.go:26:14",
    "  from ... argument (slice-literal-element) at ./main.go:26:13",
    "flow: fmt.a ← &{storage for ... argument}:",
    "  from ... argument (spill) at ./main.go:26:13",
    "  from fmt.a := ... argument (assign-pair) at ./main.go:26:13",
    "flow: {heap} ← *fmt.a:",
    "  from fmt.Fprintln(os.Stdout, fmt.a...) (call parameter) at ./main.go:26:13",
)
CLOSURE_RETURNED = (
    "flow: ~r0 ← &{storage for func literal}:",
    "  from func literal (spill) at ./main.go:31:9",
    "  from return func literal (return) at ./main.go:31:2",
)
CLOSURE_GO = (
    "flow: {heap} ← &{storage for func literal}:",
    "  from func literal (spill) at ./main.go:36:5",
)
CAPTURED = (
    "flow: {storage for func literal} ← &c:",
    "  from c (captured by a closure) at ./main.go:31:22",
    "  from c (reference) at ./main.go:31:22",
)
TOO_LARGE = ("flow: {heap} ← &b:", "  from b (too large for stack) at ./main.go:46:6")
NON_CONSTANT_OLD = (
    "flow: {heap} = &{storage for make([]int, n)}:",
    "  from make([]int, n) (non-constant size) at ./main.go:40:11",
)
INTERFACE_METHOD = (
    "flow: {heap} ← &z:",
    "  from &z (address-of) at ./main.go:53:10",
    "  from s.Speak(&z) (call parameter) at ./main.go:53:9",
)
SEND = (
    "flow: {heap} ← &q:",
    "  from &q (address-of) at ./main.go:71:7",
    "  from c <- &q (send) at ./main.go:71:4",
)
FIELD = (
    "flow: {heap} ← &y:",
    "  from &y (address-of) at ./more.go:16:8",
    "  from s.p = &y (assign) at ./more.go:16:6",
)
TO_INTERFACE_GLOBAL = (
    "flow: {heap} ← &{storage for x}:",
    "  from x (spill) at ./more.go:11:12",
    "  from sinkAny = x (assign) at ./more.go:11:10",
)
INTERFACE_CONVERTED_OLD = (
    "flow: {heap} = &{storage for x}:",
    "  from x (interface-converted) at ./old.go:5:9",
)
MAKE_RETURNED = (
    "flow: b ← &{storage for make([]byte, n)}:",
    "  from make([]byte, n) (spill) at ./more.go:28:11",
    "  from b := make([]byte, n) (assign) at ./more.go:28:4",
    "flow: ~r0 ← b:",
    "  from return b (return) at ./more.go:29:2",
)

APPEND_RETURNED = (
    "flow: out ← &{storage for append(out, xs...)}:",
    "  from append(out, xs...) (spill) at ./more.go:34:14",
    "  from out = append(out, xs...) (assign) at ./more.go:34:6",
    "flow: ~r0 ← out:",
    "  from return out (return) at ./more.go:35:2",
)


@pytest.mark.parametrize(
    ("kind", "expression", "explanation", "expected"),
    [
        (
            Kind.MOVED,
            "v",
            GRAB_EXPLANATION,
            "The address of `v` is stored in the package-level variable `sinkInt`, "
            "so `v` must outlive the call.",
        ),
        (Kind.MOVED, "v", GLOBAL, "stored in the package-level variable `sinkInt`"),
        (Kind.MOVED, "x", RETURNED_VAR, "The address of `x` is returned, so `x` must outlive"),
        (Kind.MOVED, "x", RETURNED_VAR_OLD, "The address of `x` is returned"),
        (Kind.ESCAPE, "&T{...}", RETURNED_LITERAL, "`&T{...}` is returned, so it must outlive"),
        (Kind.ESCAPE, "n", FMT, "`n` is passed to a `fmt` function"),
        (Kind.ESCAPE, "func literal", CLOSURE_RETURNED, "The closure is returned"),
        (Kind.ESCAPE, "func literal", CLOSURE_GO, "started with a go statement"),
        (Kind.MOVED, "c", CAPTURED, "`c` is captured by a closure that outlives the call"),
        (Kind.MOVED, "b", TOO_LARGE, "`b` is too large for the stack"),
        (Kind.ESCAPE, "make([]int, n)", NON_CONSTANT_OLD, "not known at compile time"),
        (
            Kind.MOVED,
            "z",
            INTERFACE_METHOD,
            "The address of `z` is passed to `s.Speak(&z)`, a call that may keep it (the compiler "
            "cannot see through interface methods and function values)",
        ),
        (Kind.MOVED, "q", SEND, "The address of `q` is sent on a channel"),
        (
            Kind.MOVED,
            "y",
            FIELD,
            "The address of `y` is stored in `s.p` (reachable after the call returns)",
        ),
        (Kind.ESCAPE, "x", TO_INTERFACE_GLOBAL, "`x` is converted to an interface value"),
        (Kind.ESCAPE, "x", INTERFACE_CONVERTED_OLD, "`x` is converted to an interface value"),
        (Kind.ESCAPE, "make([]byte, n)", MAKE_RETURNED, "`make([]byte, n)` is returned"),
        (
            Kind.ESCAPE,
            "append",
            APPEND_RETURNED,
            "The backing array that `append` allocates is returned, so it must outlive the call.",
        ),
    ],
)
def test_hint_from_explanation(
    kind: Kind, expression: str, explanation: tuple[str, ...], expected: str
) -> None:
    found = hint(record(kind=kind, expression=expression, explanation=explanation))
    assert expected in found
    assert "\n" not in found


@pytest.mark.parametrize(
    ("kind", "expression", "expected"),
    [
        (Kind.MOVED, "v", "`v` must outlive the call: its address is returned"),
        (Kind.ESCAPE, "&T{...}", "`&T{...}` outlives the call"),
        (Kind.ESCAPE, "new(T)", "`new(T)` outlives the call"),
        (Kind.ESCAPE, "make([]byte, n)", "not known at compile time or too large for the stack"),
        (Kind.ESCAPE, "func literal", "The closure outlives the call"),
        (Kind.ESCAPE, "... argument", "variadic arguments"),
        (Kind.ESCAPE, "n", "`n` is converted to an interface value"),
        (Kind.ESCAPE, "42", "`42` is converted to an interface value"),
        (Kind.ESCAPE, "append", "append grows"),
    ],
)
def test_hint_guessed_from_expression(kind: Kind, expression: str, expected: str) -> None:
    assert expected in hint(record(kind=kind, expression=expression))


@pytest.mark.parametrize(
    "rec",
    [
        record(kind=Kind.ESCAPE, expression="s.M"),  # a method value, or an interface: unsure
        record(kind=Kind.LEAKING_PARAM, expression="p", message="leaking param: p"),
        record(kind=Kind.NO_ESCAPE, expression="&T{...}", message="&T{...} does not escape"),
        record(kind=Kind.INLINING, expression="", message="can inline F"),
    ],
)
def test_no_hint_when_nothing_applies(rec: object) -> None:
    assert hint(rec) == ""  # type: ignore[arg-type]


def test_explanation_wins_over_the_expression() -> None:
    # &x alone suggests "returned or stored"; the explanation says which.
    rec = record(kind=Kind.ESCAPE, expression="&T{...}", explanation=SEND)
    assert "sent on a channel" in hint(rec)


def test_unmatched_explanation_falls_back_to_the_expression() -> None:
    rec = record(kind=Kind.MOVED, expression="v", explanation=("flow: {temp} ← &v:",))
    assert "must outlive the call" in hint(rec)


def test_code_formatter_is_applied_to_every_piece_of_code() -> None:
    rec = record(kind=Kind.MOVED, expression="v", explanation=GRAB_EXPLANATION)
    found = hint(rec, code=lambda c: f"<{c}>")
    assert found == (
        "The address of <v> is stored in the package-level variable <sinkInt>, "
        "so <v> must outlive the call."
    )
    assert "`" not in found


def test_parse_flows_groups_steps_under_their_flow_line() -> None:
    flows = parse_flows(("v escapes to heap in grab:", *FMT))
    assert [f.dst for f in flows] == ["{storage for ... argument}", "fmt.a", "{heap}"]
    assert flows[-1] == Flow(
        "{heap}", "*fmt.a", (Step("fmt.Fprintln(os.Stdout, fmt.a...)", "call parameter"),)
    )
    assert parse_flows(("  from x (spill) at a.go:1:1",)) == []  # no flow line yet


# ---- variables of inlined callees ----

# `escape-guard diff --explain` on examples/demo: Info's local, inlined into main.
DEMO_INLINED = (
    "flow: logfmt.r ← &logfmt.rec:",
    "  from &logfmt.rec (address-of) at cmd/demo/main.go:13:13",
    "  from logfmt.r := &logfmt.rec (assign-pair) at cmd/demo/main.go:13:13",
    "flow: {heap} ← logfmt.r:",
    "  from logfmt.last = logfmt.r (assign) at cmd/demo/main.go:13:13",
)


def demo_inlined(**fields: object) -> object:
    values: dict[str, object] = {
        "path": "cmd/demo/main.go",
        "line": 13,
        "column": 13,
        "expression": "logfmt.rec",
        "function": "main",
        "explanation": DEMO_INLINED,
    }
    return record(**(values | fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('logfmt.Info("done")', Inlined("rec", "logfmt", "logfmt.Info")),
        ("x := logfmt.Get[int](k) // logfmt.Other()", Inlined("rec", "logfmt", "logfmt.Get")),
        ("a, b := logfmt.A(), logfmt.B()", Inlined("rec", "logfmt", "")),  # which one is unknown
        ("l.Info(msg)", Inlined("rec", "logfmt", "")),  # a method: the package is all we know
        ("", Inlined("rec", "logfmt", "")),
    ],
)
def test_inlined_callee_from_the_source_line(source: str, expected: Inlined) -> None:
    assert inlined(demo_inlined(), source) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "rec",
    [
        record(expression="rec"),  # the function's own variable
        record(kind=Kind.ESCAPE, expression="r.Fields"),  # a field, not a callee's variable
        record(kind=Kind.ESCAPE, expression="logfmt.rec"),
    ],
)
def test_own_variables_and_escaping_expressions_are_not_inlined(rec: object) -> None:
    assert inlined(rec, "logfmt.Info()") is None  # type: ignore[arg-type]


def test_subject_names_the_callee_or_its_package() -> None:
    rec = demo_inlined()
    assert subject(rec, 'logfmt.Info("done")') == "`rec` of `logfmt.Info`, inlined here,"  # type: ignore[arg-type]
    assert subject(rec, "") == "`rec` of package `logfmt`'s inlined code"  # type: ignore[arg-type]
    assert subject(record(expression="v")) == "`v`"


def test_hint_for_an_inlined_variable_uses_its_own_name() -> None:
    assert hint(demo_inlined()) == (  # type: ignore[arg-type]
        "The address of `rec` is stored in the package-level variable `logfmt.last`, "
        "so `rec` must outlive the call."
    )


def test_every_surface_names_the_inlined_callee() -> None:
    found = finding(demo_inlined(), status=Status.INDIRECT, source='logfmt.Info("done")')  # type: ignore[arg-type]
    whose = "`rec` of `logfmt.Info`, inlined here"
    assert f"in `main`: {whose}, is moved to the heap." in markdown.render(report(found))
    assert f"in `main`: {whose}, is moved to the heap." in markdown.inline_comment(found)
    assert (
        "cmd/demo/main.go:13:13: moved to heap: logfmt.rec (rec of logfmt.Info, inlined here) "
        "in main"
    ) in text.render(report(found))
    [result] = json.loads(sarif.render(report(found)))["runs"][0]["results"]
    assert result["message"]["text"].startswith(
        f"Heap allocation caused elsewhere in main: {whose}, is moved to the heap."
    )
    [note] = checks.check_annotations(report(found), "new")
    assert note["message"].startswith(
        "moved to heap: logfmt.rec (rec of logfmt.Info, inlined here)\nThe address of `rec`"
    )
    out = io.StringIO()
    Runner({}, out).annotate(report(found), include_indirect=True)
    assert "::rec of logfmt.Info, inlined here, is moved to the heap in main" in out.getvalue()
