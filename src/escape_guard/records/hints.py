"""One-line, plain-language hints on why the compiler put something on the heap.

The hints restate facts of Go's escape analysis. They are read from the
``-m=2`` explanation when there is one (its ``flow:`` lines say where a value
ends up, the notes in parentheses say how), else guessed from the escaping
expression alone and worded as possibilities.

Explanation lines look like this (Go 1.25 writes ``←``, earlier releases ``=``)::

    flow: {heap} ← &v:
      from &v (address-of) at app/main.go:13:12
      from sinkInt = &v (assign) at app/main.go:13:10

``{heap}`` is "somewhere that outlives the call", ``~r0`` the first result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from escape_guard.model import EscapeRecord, Kind

Code = Callable[[str], str]
"""Formats a piece of code for the output at hand (a Markdown code span, say)."""

_FLOW = re.compile(r"^flow:\s*(?P<dst>.+?)\s+(?:←|=)\s+(?P<src>.*?):?$")
_FROM = re.compile(r"^from\s+(?P<what>.*\S)\s+\((?P<note>[^()]*)\)(?:\s+at\s+\S+)?$")
_RESULT = re.compile(r"^~[rR]\d*$")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_QUALIFIED = re.compile(r"^(?P<package>[A-Za-z_]\w*)\.(?P<name>[A-Za-z_]\w*)$")
# A value, not an address: boxing it in an interface is what allocates.
_VALUE = re.compile(r"^(?:[A-Za-z_]\w*(?:\[[^\]]*\])*|-?\d[\w.]*|'.*'|\".*\")$")


def inlined_note(record: EscapeRecord, source: str = "") -> str:
    """``rec of logfmt.Info, inlined here`` for an inlined callee's variable, ``inside
    slices.Insert, the standard library's generic code, instantiated here`` for an escape in
    another package's generic body, else ""."""
    if record.inside:
        return f"inside {record.inside}, {generic_code(record.inside)}, instantiated here"
    return subject(record, source, code=str).rstrip(",") if inlined(record, source) else ""


def generic_code(origin: str) -> str:
    """Whose generic code ``origin`` (``slices.Insert``, a function by its import path) is."""
    package = origin.rpartition(".")[0] or origin
    if "." not in package.split("/", 1)[0]:
        return "the standard library's generic code"
    return f"generic code of {package}"


class Step(NamedTuple):
    what: str  # the expression or statement of this step
    note: str  # the compiler's word for it: "address-of", "assign", "call parameter", ...


class Flow(NamedTuple):
    """One ``flow:`` line of an explanation and the steps under it."""

    dst: str
    src: str
    steps: tuple[Step, ...]


def backticks(code: str) -> str:
    """The default ``Code``: plain text with code in backticks."""
    return f"`{code}`"


class Inlined(NamedTuple):
    """A variable of a function from another package, inlined into the reported one.

    The compiler names it by its package: ``moved to heap: logfmt.rec`` in ``main``
    is ``rec`` of an inlined ``logfmt`` function.
    """

    name: str  # the callee's variable: "rec"
    package: str  # the package qualifier: "logfmt"
    callee: str  # "logfmt.Info" when the source line calls exactly one function of it, else ""


def inlined(record: EscapeRecord, source: str = "") -> Inlined | None:
    """What ``record`` says about an inlined callee's variable; None for the function's own."""
    match = _QUALIFIED.match(record.expression) if record.kind is Kind.MOVED else None
    if match is None:
        return None
    package, name = match["package"], match["name"]
    call = re.compile(rf"(?<![\w.]){re.escape(package)}\.([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\(")
    callees = set(call.findall(source.split("//", 1)[0]))
    callee = f"{package}.{callees.pop()}" if len(callees) == 1 else ""
    return Inlined(name, package, callee)


def subject(record: EscapeRecord, source: str = "", *, code: Code = backticks) -> str:
    """What escapes, as a sentence's subject ("`rec` of `logfmt.Info`, inlined here,")."""
    if record.inside:
        whose = generic_code(record.inside)
        return (
            f"{code(record.expression)} inside {code(record.inside)} ({whose}), instantiated here,"
        )
    found = inlined(record, source)
    if found is None:
        return code(record.expression)
    if found.callee:
        return f"{code(found.name)} of {code(found.callee)}, inlined here,"
    return f"{code(found.name)} of package {code(found.package)}'s inlined code"


def parse_flows(explanation: tuple[str, ...]) -> list[Flow]:
    """The ``flow:`` lines of an explanation, each with its ``from`` steps."""
    flows: list[Flow] = []
    for raw in explanation:
        line = raw.strip()
        flow, step = _FLOW.match(line), _FROM.match(line)
        if flow:
            flows.append(Flow(flow["dst"], flow["src"], ()))
        elif step and flows:
            last = flows[-1]
            flows[-1] = last._replace(steps=(*last.steps, Step(step["what"], step["note"])))
    return flows


def hint(record: EscapeRecord, *, code: Code = backticks) -> str:
    """Why ``record`` is on the heap, in one line; "" when no common cause applies.

    ``code`` formats the pieces of code the hint quotes; the rest of the text
    is plain words, safe in Markdown.
    """
    if not record.is_heap:
        return ""
    flows = parse_flows(record.explanation)
    context = _Context(record, flows, code)
    # What the explanation says beats what the expression suggests.
    rules = (*_EXPLAINED, *_GUESSED) if flows else _GUESSED
    return next((found for found in (rule(context) for rule in rules) if found), "")


class _Context(NamedTuple):
    record: EscapeRecord
    flows: list[Flow]
    code: Code

    @property
    def subject(self) -> str:
        if self.record.expression == "append":  # Go 1.25+: "append escapes to heap"
            return f"The backing array that {self.code('append')} allocates"
        found = inlined(self.record)
        if found is not None:  # the sentence naming it said whose it is
            return self.code(found.name)
        return self.code(self.record.expression or "this value")

    def package_level(self, target: str) -> bool:
        """Whether TARGET names a package-level variable (the inlined callee's package's too)."""
        found = inlined(self.record)
        qualified = _QUALIFIED.match(target)
        return bool(_IDENT.match(target)) or bool(
            found and qualified and qualified["package"] == found.package
        )

    @property
    def moved(self) -> bool:
        return self.record.kind is Kind.MOVED

    @property
    def notes(self) -> set[str]:
        return {s.note for f in self.flows for s in f.steps}

    @property
    def last(self) -> Flow:
        return self.flows[-1]

    def mentions(self, word: str) -> bool:
        texts = [t for f in self.flows for t in (f.dst, f.src, *(s.what for s in f.steps))]
        return any(word in t for t in texts)

    def outlives(self, how: str) -> str:
        subject = self.subject
        if self.moved:
            return f"The address of {subject} is {how}, so {subject} must outlive the call."
        return f"{subject} is {how}, so it must outlive the call."


def _too_large(c: _Context) -> str:
    if "too large for stack" in c.notes:
        return f"{c.subject} is too large for the stack, so the compiler puts it on the heap."
    return ""


def _non_constant(c: _Context) -> str:
    if "non-constant size" in c.notes:
        return (
            f"The size given to {c.code('make')} is not known at compile time, "
            "so the memory is allocated on the heap."
        )
    return ""


def _captured(c: _Context) -> str:
    if c.moved and "captured by a closure" in c.notes:
        return (
            f"{c.subject} is captured by a closure that outlives the call, "
            "so it moves to the heap with the closure."
        )
    return ""


def _closure(c: _Context) -> str:
    if c.record.expression != "func literal":
        return ""
    if c.flows and _RESULT.match(c.last.dst):
        return "The closure is returned, so it and the variables it captures live on the heap."
    return (
        "The closure outlives the call (it is returned, stored, or started with a go "
        "statement), so it and the variables it captures live on the heap."
    )


def _variadic(c: _Context) -> str:
    if c.record.expression == "... argument":
        return (
            "The slice holding the variadic arguments is kept by the called function, "
            "so it is allocated on the heap."
        )
    return ""


def _interface(c: _Context) -> str:
    if c.moved:
        return ""
    via_fmt = c.mentions("fmt.")
    converted = bool(c.notes & {"interface-converted", "converted"})
    if via_fmt:
        return (
            f"{c.subject} is passed to a {c.code('fmt')} function: converting it to an "
            f"interface ({c.code('any')}) copies it to the heap."
        )
    # Since Go 1.25 the compiler reports "append escapes to heap": an allocation, not a value.
    boxed = _VALUE.match(c.record.expression) and c.record.expression != "append"
    if converted or boxed:
        return (
            f"{c.subject} is converted to an interface value (an {c.code('any')} parameter, "
            f"the {c.code('fmt')} family), which copies it to the heap."
        )
    return ""


def _returned(c: _Context) -> str:
    if _RESULT.match(c.last.dst) or "return" in {s.note for s in c.last.steps}:
        return c.outlives("returned")
    return ""


def _sent(c: _Context) -> str:
    return c.outlives("sent on a channel") if "send" in c.notes else ""


def _called(c: _Context) -> str:
    calls = [s.what for s in c.last.steps if s.note == "call parameter"]
    if c.last.dst != "{heap}" or not calls:
        return ""
    return c.outlives(
        f"passed to {c.code(calls[-1])}, a call that may keep it (the compiler "
        "cannot see through interface methods and function values)"
    )


def _stored(c: _Context) -> str:
    targets = [
        s.what.split(" = ", 1)[0] for s in c.last.steps if s.note == "assign" and " = " in s.what
    ]
    if not targets or c.last.dst not in ("{heap}", targets[-1]):
        return ""
    target = targets[-1]
    if c.package_level(target):
        return c.outlives(f"stored in the package-level variable {c.code(target)}")
    return c.outlives(f"stored in {c.code(target)} (reachable after the call returns)")


def _guess_moved(c: _Context) -> str:
    if not c.moved:
        return ""
    return (
        f"{c.subject} must outlive the call: its address is returned, stored in something "
        "that outlives the call, or captured by a closure that does."
    )


def _guess_allocation(c: _Context) -> str:
    expr = c.record.expression
    if expr.startswith("make("):
        return (
            f"{c.subject} outlives the call, or its size is not known at compile time or "
            "too large for the stack."
        )
    if expr.startswith(("&", "new(")):
        return (
            f"{c.subject} outlives the call: it is returned, stored in something that "
            "outlives the call, or passed to a call that keeps it."
        )
    if expr.startswith("append"):
        return (
            "The slice that append grows outlives the call (returned or stored), so its "
            "new backing array is allocated on the heap."
        )
    return ""


_Rule = Callable[[_Context], str]
_EXPLAINED: tuple[_Rule, ...] = (
    _too_large,
    _non_constant,
    _captured,
    _closure,
    _variadic,
    _interface,
    _returned,
    _sent,
    _called,
    _stored,
)
_GUESSED: tuple[_Rule, ...] = (_closure, _variadic, _interface, _guess_moved, _guess_allocation)
