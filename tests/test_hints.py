from __future__ import annotations

import pytest

from escape_guard.hints import Flow, Step, hint, parse_flows
from escape_guard.model import Kind
from tests.factories import GRAB_EXPLANATION, record

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
