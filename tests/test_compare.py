from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest

from escape_guard.diffmap import FileChange, LineMap, parse_diff
from escape_guard.judgement.compare import compare
from escape_guard.model import EscapeRecord, Finding, Identity, Kind, Status
from escape_guard.records.normalize import identity
from tests.test_diffmap import git_diff

NEW, INDIRECT, FIXED, UNCHANGED = Status.NEW, Status.INDIRECT, Status.FIXED, Status.UNCHANGED
INDIRECT_FIXED = Status.INDIRECT_FIXED

Files = Mapping[str, str]


def escapes(
    files: Files,
    path: str,
    needle: str,
    *,
    func: str,
    kind: Kind = Kind.ESCAPE,
    expr: str | None = None,
) -> list[EscapeRecord]:
    """One record per occurrence of ``needle`` in ``path``, where the compiler would put it."""
    expression = needle if expr is None else expr
    message = (
        f"moved to heap: {expression}" if kind is Kind.MOVED else f"{expression} escapes to heap"
    )
    found = [
        EscapeRecord(path, n, m.start() + 1, kind, expression, message, func, "example.com/a")
        for n, text in enumerate(files[path].split("\n"), start=1)
        for m in re.finditer(re.escape(needle), text)
    ]
    assert found, f"{needle!r} is not in {path}"
    return found


def run(
    tmp_path: Path,
    base_files: Files,
    head_files: Files,
    base: Sequence[EscapeRecord],
    head: Sequence[EscapeRecord],
) -> list[Finding]:
    linemap = parse_diff(git_diff(tmp_path, base_files, head_files))
    findings = compare(base, head, linemap)
    assert_accounted(base, head, findings)
    return findings


def assert_accounted(
    base: Iterable[EscapeRecord], head: Iterable[EscapeRecord], findings: Sequence[Finding]
) -> None:
    """Every heap record of both sides is in exactly one finding; nothing else is."""
    base_heap = Counter(r for r in base if r.is_heap)
    head_heap = Counter(r for r in head if r.is_heap)
    from_head = Counter(f.record for f in findings if f.status not in (FIXED, INDIRECT_FIXED))
    fixed = Counter(f.record for f in findings if f.status in (FIXED, INDIRECT_FIXED))
    unchanged = sum(1 for f in findings if f.status is UNCHANGED)
    assert from_head == head_heap
    assert fixed <= base_heap
    assert fixed.total() + unchanged == base_heap.total()


def verdicts(findings: Iterable[Finding]) -> list[tuple[Status, str, int, str]]:
    return [(f.status, f.record.path, f.record.line, f.record.expression) for f in findings]


A = """package a

type T struct{ n int }

func F() *T {
	p := &T{n: 1}
	return p
}

func G(n int) []int {
	return make([]int, n)
}
"""


def a_escapes(files: Files, path: str = "a.go") -> list[EscapeRecord]:
    return [
        *escapes(files, path, "&T{n: 1}", func="F"),
        *escapes(files, path, "make([]int, n)", func="G"),
    ]


def test_nothing_changed(tmp_path: Path) -> None:
    files = {"a.go": A}
    findings = run(tmp_path, files, files, a_escapes(files), a_escapes(files))

    assert verdicts(findings) == [
        (UNCHANGED, "a.go", 6, "&T{n: 1}"),
        (UNCHANGED, "a.go", 11, "make([]int, n)"),
    ]


def test_lines_inserted_above_an_escape(tmp_path: Path) -> None:
    head = {"a.go": A.replace("package a\n", "package a\n\n// Package a does things.\n// More.\n")}
    findings = run(tmp_path, {"a.go": A}, head, a_escapes({"a.go": A}), a_escapes(head))

    assert verdicts(findings) == [
        (UNCHANGED, "a.go", 9, "&T{n: 1}"),
        (UNCHANGED, "a.go", 14, "make([]int, n)"),
    ]


@pytest.mark.parametrize(
    "reformatted",
    [
        "\tp := &T{n: 1} // a comment on the escaping line\n",
        "\tvar p = &T{n: 1}\n",
        "\tp :=\n\t\t&T{n: 1}\n",
    ],
)
def test_reformatted_escaping_line_is_not_new(tmp_path: Path, reformatted: str) -> None:
    head = {"a.go": A.replace("\tp := &T{n: 1}\n", reformatted)}
    linemap = parse_diff(git_diff(tmp_path, {"a.go": A}, head))
    head_records = a_escapes(head)
    assert linemap.is_added("a.go", head_records[0].line)

    findings = compare(a_escapes({"a.go": A}), head_records, linemap)

    assert_accounted(a_escapes({"a.go": A}), head_records, findings)
    assert {f.status for f in findings} == {UNCHANGED}


def test_function_moved_within_the_file(tmp_path: Path) -> None:
    f_body = A[A.index("func F") : A.index("func G")]
    head = {"a.go": A.replace(f_body, "") + "\n" + f_body}
    linemap = parse_diff(git_diff(tmp_path, {"a.go": A}, head))
    assert linemap.added_lines("a.go"), "git shows the move as removed and added lines"

    findings = compare(a_escapes({"a.go": A}), a_escapes(head), linemap)

    assert verdicts(findings) == [
        (UNCHANGED, "a.go", 6, "make([]int, n)"),
        (UNCHANGED, "a.go", 10, "&T{n: 1}"),
    ]


def test_function_moved_into_another_file(tmp_path: Path) -> None:
    g_body = A[A.index("func G") :]
    head = {"a.go": A.replace(g_body, "").rstrip() + "\n", "g.go": "package a\n\n" + g_body}
    base_records = a_escapes({"a.go": A})
    head_records = [
        *escapes(head, "a.go", "&T{n: 1}", func="F"),
        *escapes(head, "g.go", "make([]int, n)", func="G"),
    ]
    findings = run(tmp_path, {"a.go": A}, head, base_records, head_records)

    assert verdicts(findings) == [
        (UNCHANGED, "a.go", 6, "&T{n: 1}"),
        (UNCHANGED, "g.go", 4, "make([]int, n)"),
    ]


def test_function_moved_and_a_new_escape_added_in_the_same_function(tmp_path: Path) -> None:
    g_body = A[A.index("func G") :]
    g_head = g_body.replace("\treturn", "\t_ = make([]int, n)\n\treturn")
    head = {"a.go": A.replace(g_body, "").rstrip() + "\n", "g.go": "package a\n\n" + g_head}
    base_records = a_escapes({"a.go": A})
    head_records = [
        *escapes(head, "a.go", "&T{n: 1}", func="F"),
        *escapes(head, "g.go", "make([]int, n)", func="G"),
    ]
    findings = run(tmp_path, {"a.go": A}, head, base_records, head_records)

    assert sorted(f.status for f in findings if f.record.path == "g.go") == [NEW, UNCHANGED]


@pytest.mark.parametrize(
    ("new_name", "head_text"),
    [
        ("b.go", A),  # similarity index 100%
        ("sub/b.go", A),
        ("b.go", "// Copyright line.\n\n" + A),  # renamed and edited
        ("b.go", A.replace("\tp := &T{n: 1}\n", "\tvar p = &T{n: 1}\n")),
    ],
)
def test_renamed_file(tmp_path: Path, new_name: str, head_text: str) -> None:
    head = {new_name: head_text}
    linemap = parse_diff(git_diff(tmp_path, {"a.go": A}, head))
    assert linemap.renamed == {"a.go": new_name}

    findings = compare(a_escapes({"a.go": A}), a_escapes(head, new_name), linemap)

    assert {f.status for f in findings} == {UNCHANGED}
    assert {f.record.path for f in findings} == {new_name}


def test_rename_git_does_not_detect_is_a_move(tmp_path: Path) -> None:
    rewritten = "package a\n\n" + "\n".join(f"// note {n}" for n in range(30)) + "\n" + A[11:]
    head = {"b.go": rewritten}
    linemap = parse_diff(git_diff(tmp_path, {"a.go": A}, head))
    assert linemap.renamed == {}
    assert linemap.deleted_paths == {"a.go"}

    findings = compare(a_escapes({"a.go": A}), a_escapes(head, "b.go"), linemap)

    assert {f.status for f in findings} == {UNCHANGED}


def test_deleted_file_escapes_are_fixed(tmp_path: Path) -> None:
    b = "package a\n\nfunc H() any {\n\tx := 1\n\treturn &x\n}\n"
    base_files = {"a.go": A, "b.go": b}
    base_records = [
        *a_escapes(base_files),
        *escapes(base_files, "b.go", "x :=", func="H", kind=Kind.MOVED, expr="x"),
    ]
    findings = run(tmp_path, base_files, {"a.go": A}, base_records, a_escapes({"a.go": A}))

    assert verdicts(findings) == [
        (UNCHANGED, "a.go", 6, "&T{n: 1}"),
        (UNCHANGED, "a.go", 11, "make([]int, n)"),
        (FIXED, "b.go", 4, "x"),
    ]


@pytest.mark.parametrize(
    ("body", "new_line"),
    [
        ("\tp := &T{n: 1}\n\tq := &T{n: 1}\n\t_ = q\n", 7),  # copy added below
        ("\tq := &T{n: 1}\n\t_ = q\n\tp := &T{n: 1}\n", 6),  # copy added above
    ],
)
def test_second_identical_escape_in_a_function_is_new(
    tmp_path: Path, body: str, new_line: int
) -> None:
    head = {"a.go": A.replace("\tp := &T{n: 1}\n", body)}
    base_records = a_escapes({"a.go": A})
    head_records = a_escapes(head)
    assert len({(r.path, r.function, r.kind, r.expression) for r in head_records[:2]}) == 1
    findings = run(tmp_path, {"a.go": A}, head, base_records, head_records)

    assert [(s, line) for s, _, line, _ in verdicts(findings) if s is not UNCHANGED] == [
        (NEW, new_line)
    ]
    assert sum(f.status is UNCHANGED for f in findings) == 2


def test_fixed_escape(tmp_path: Path) -> None:
    head = {"a.go": A.replace("return make([]int, n)", "return nil")}
    head_records = escapes(head, "a.go", "&T{n: 1}", func="F")
    findings = run(tmp_path, {"a.go": A}, head, a_escapes({"a.go": A}), head_records)

    assert verdicts(findings) == [
        (UNCHANGED, "a.go", 6, "&T{n: 1}"),
        (FIXED, "a.go", 11, "make([]int, n)"),  # the base line
    ]


def test_fixed_escape_reports_the_base_position_after_a_shift(tmp_path: Path) -> None:
    head = {"a.go": A.replace("package a\n", "package a\n\n// x\n").replace("&T{n: 1}", "T{n: 1}")}
    base_records = a_escapes({"a.go": A})
    head_records = escapes(head, "a.go", "make([]int, n)", func="G")
    findings = run(tmp_path, {"a.go": A}, head, base_records, head_records)

    assert verdicts(findings) == [
        (FIXED, "a.go", 6, "&T{n: 1}"),
        (UNCHANGED, "a.go", 13, "make([]int, n)"),
    ]


def test_indirect_escape_on_an_unchanged_line(tmp_path: Path) -> None:
    # The change is in F; G's parameter now escapes (say, through a callee that changed).
    head = {"a.go": A.replace("return p\n", "return p // callers keep it\n")}
    head_records = [
        *a_escapes(head),
        *escapes(head, "a.go", "G(n int)", func="G", kind=Kind.MOVED, expr="n"),
    ]
    findings = run(tmp_path, {"a.go": A}, head, a_escapes({"a.go": A}), head_records)

    assert verdicts(findings) == [
        (UNCHANGED, "a.go", 6, "&T{n: 1}"),
        (INDIRECT, "a.go", 10, "n"),
        (UNCHANGED, "a.go", 11, "make([]int, n)"),
    ]


def test_brand_new_file(tmp_path: Path) -> None:
    b = "package a\n\nfunc H() (any, []byte) {\n\tx := 1\n\treturn &x, make([]byte, 9<<20)\n}\n"
    head = {"a.go": A, "b.go": b}
    head_records = [
        *a_escapes(head),
        *escapes(head, "b.go", "x :=", func="H", kind=Kind.MOVED, expr="x"),
        *escapes(head, "b.go", "make([]byte, 9<<20)", func="H"),
    ]
    findings = run(tmp_path, {"a.go": A}, head, a_escapes({"a.go": A}), head_records)

    assert [v for v in verdicts(findings) if v[1] == "b.go"] == [
        (NEW, "b.go", 4, "x"),
        (NEW, "b.go", 5, "make([]byte, 9<<20)"),
    ]


LOG = """package a

func P(a, b int) {
	log(a)
	log(b)
}
"""


def test_edited_line_keeps_its_escape_next_to_an_indirect_one(tmp_path: Path) -> None:
    """The extra copy of an identity sits on an unchanged line: it is the indirect one,
    and the edited line that had the escape before is not new."""
    head = {"a.go": LOG.replace("log(a)", "log(a + 0)")}
    base_records = escapes({"a.go": LOG}, "a.go", "log(a)", func="P", expr="... argument")
    head_records = [
        *escapes(head, "a.go", "log(a + 0)", func="P", expr="... argument"),
        *escapes(head, "a.go", "log(b)", func="P", expr="... argument"),
    ]
    findings = run(tmp_path, {"a.go": LOG}, head, base_records, head_records)

    assert [(s, line) for s, _, line, _ in verdicts(findings)] == [(UNCHANGED, 4), (INDIRECT, 5)]


def test_one_new_and_one_indirect_copy(tmp_path: Path) -> None:
    head = {"a.go": LOG.replace("\tlog(b)\n", "\tlog(b)\n\tlog(a)\n")}
    head_records = [
        *escapes(head, "a.go", "log(a)", func="P", expr="... argument"),
        *escapes(head, "a.go", "log(b)", func="P", expr="... argument"),
    ]
    findings = run(tmp_path, {"a.go": LOG}, head, [], head_records)

    assert [(s, line) for s, _, line, _ in verdicts(findings)] == [
        (INDIRECT, 4),
        (INDIRECT, 5),
        (NEW, 6),
    ]


def test_same_column_pairs_first_on_an_unchanged_line(tmp_path: Path) -> None:
    two = A.replace("\tp := &T{n: 1}\n", "\tp, q := &T{n: 1}, &T{n: 1}\n\t_ = q\n")
    head = {"a.go": two.replace("return p\n", "return p // x\n")}
    base_records = escapes({"a.go": two}, "a.go", "&T{n: 1}", func="F")[1:]  # only q's
    head_records = escapes(head, "a.go", "&T{n: 1}", func="F")
    findings = run(tmp_path, {"a.go": two}, head, base_records, head_records)

    assert [(f.status, f.record.column) for f in findings] == [(INDIRECT, 10), (UNCHANGED, 20)]


def test_only_heap_records_take_part(tmp_path: Path) -> None:
    files = {"a.go": A}
    noise = [
        EscapeRecord("a.go", 10, 8, Kind.LEAKING_PARAM, "n", "leaking param: n", "G"),
        EscapeRecord("a.go", 6, 7, Kind.NO_ESCAPE, "&T{n: 1}", "&T{n: 1} does not escape", "F"),
        EscapeRecord("a.go", 5, 6, Kind.INLINING, "F", "can inline F", "F"),
        EscapeRecord("a.go", 7, 2, Kind.OTHER, "", "devirtualizing x", "F"),
    ]
    findings = run(tmp_path, files, files, a_escapes(files) + noise[:2], a_escapes(files) + noise)

    assert all(f.record.is_heap for f in findings)
    assert len(findings) == 2


# Pure cases: one file edited in place (no line shifts), records by line.
@pytest.mark.parametrize(
    ("base_lines", "head_lines", "added", "expected"),
    [
        ([10], [10], [], [(UNCHANGED, 10)]),
        ([10], [10], [10], [(UNCHANGED, 10)]),
        ([], [10], [10], [(NEW, 10)]),
        ([], [10], [], [(INDIRECT, 10)]),
        ([10], [], [10], [(FIXED, 10)]),
        # Gone from a line the change kept: caused elsewhere, not fixed there.
        ([10], [], [], [(INDIRECT_FIXED, 10)]),
        ([10], [10, 11], [11], [(UNCHANGED, 10), (NEW, 11)]),
        ([10], [10, 11], [10, 11], [(UNCHANGED, 10), (NEW, 11)]),
        ([11], [10, 11], [10, 11], [(NEW, 10), (UNCHANGED, 11)]),
        # An edited line keeps its escape (the base line was edited: removed, then added).
        ([10, 19], [19], [19], [(INDIRECT_FIXED, 10), (UNCHANGED, 19)]),
        ([10, 20], [11], [11, 20], [(INDIRECT_FIXED, 10), (UNCHANGED, 11)]),
        # A record gone from a kept line excuses nothing on an added one.
        ([10, 20], [19], [19], [(INDIRECT_FIXED, 10), (NEW, 19), (INDIRECT_FIXED, 20)]),
        ([10, 20], [], [10], [(FIXED, 10), (INDIRECT_FIXED, 20)]),
        ([10], [10, 30], [10], [(UNCHANGED, 10), (INDIRECT, 30)]),
        ([10], [30], [10, 30], [(UNCHANGED, 30)]),
        # The escape left line 10 (still there, unedited: a change elsewhere) and one
        # appeared on added line 30 of the same function: that one is new.
        ([10], [30], [30], [(INDIRECT_FIXED, 10), (NEW, 30)]),
        ([10, 11, 12], [10, 11, 12], [], [(UNCHANGED, 10), (UNCHANGED, 11), (UNCHANGED, 12)]),
        ([10, 11, 12], [11], [], [(INDIRECT_FIXED, 10), (UNCHANGED, 11), (INDIRECT_FIXED, 12)]),
        ([10, 11, 12], [11], [10, 12], [(FIXED, 10), (UNCHANGED, 11), (FIXED, 12)]),
        ([5], [5, 6, 7], [6, 7], [(UNCHANGED, 5), (NEW, 6), (NEW, 7)]),
        ([5], [5, 6, 7], [7], [(UNCHANGED, 5), (INDIRECT, 6), (NEW, 7)]),
    ],
)
def test_multiset_pairing(
    base_lines: list[int],
    head_lines: list[int],
    added: list[int],
    expected: list[tuple[Status, int]],
) -> None:
    linemap = LineMap((FileChange("a.go", "a.go", added=frozenset(added)),))
    base = [_rec("a.go", n) for n in base_lines]
    head = [_rec("a.go", n) for n in head_lines]

    findings = compare(base, head, linemap)

    assert_accounted(base, head, findings)
    assert [(f.status, f.record.line) for f in findings] == expected


def _rec(path: str, line: int, *, func: str = "F", expr: str = "&T{}") -> EscapeRecord:
    return EscapeRecord(path, line, 7, Kind.ESCAPE, expr, f"{expr} escapes to heap", func)


def test_moves_need_a_known_function() -> None:
    linemap = LineMap(
        (FileChange("old.go", None), FileChange(None, "new.go", added=frozenset({3, 4})))
    )
    base = [_rec("old.go", 3, func=""), _rec("old.go", 4, func="F")]
    head = [_rec("new.go", 3, func=""), _rec("new.go", 4, func="F")]

    findings = compare(base, head, linemap)

    assert_accounted(base, head, findings)
    assert [(f.status, f.record.path, f.record.line, f.record.function) for f in findings] == [
        (NEW, "new.go", 3, ""),
        (UNCHANGED, "new.go", 4, "F"),
        (FIXED, "old.go", 3, ""),
    ]


def test_moves_pair_each_copy_once() -> None:
    linemap = LineMap(
        (FileChange("old.go", None), FileChange(None, "new.go", added=frozenset({1, 2, 3})))
    )
    base = [_rec("old.go", 8)]
    head = [_rec("new.go", 1), _rec("new.go", 2), _rec("new.go", 3)]

    findings = compare(base, head, linemap)

    assert_accounted(base, head, findings)
    assert [(f.status, f.record.line) for f in findings] == [(UNCHANGED, 1), (NEW, 2), (NEW, 3)]


def test_records_outside_the_repository_pair_by_position() -> None:
    goroot = "/usr/local/go/src/slices/sort.go"
    base = [_rec(goroot, 40), _rec("", 1, func="(*T).M")]
    head = [_rec(goroot, 40), _rec(goroot, 41), _rec("", 1, func="(*T).M")]

    findings = compare(base, head, LineMap())

    assert [(f.status, f.record.path, f.record.line) for f in findings] == [
        (UNCHANGED, "", 1),
        (UNCHANGED, goroot, 40),
        (INDIRECT, goroot, 41),
    ]


def test_custom_identity_key() -> None:
    def folded(record: EscapeRecord, *, path: str | None = None) -> Identity:
        expression = re.sub(r"\d+", "#", record.expression)
        return Identity(
            record.path if path is None else path, record.function, record.kind, expression
        )

    base = [_rec("a.go", 5, expr=".autotmp_3")]
    head = [_rec("a.go", 5, expr=".autotmp_7")]
    edited = LineMap((FileChange("a.go", "a.go", added=frozenset({5})),))

    assert [f.status for f in compare(base, head, edited)] == [FIXED, NEW]
    assert [f.status for f in compare(base, head, edited, key=folded)] == [UNCHANGED]


def test_output_is_sorted_and_independent_of_input_order(tmp_path: Path) -> None:
    head_files = {"a.go": A.replace("\tp := &T{n: 1}\n", "\tp := &T{n: 1}\n\tq := &T{n: 1}\n")}
    head_files["b.go"] = "package a\n\nfunc H() any { x := 1; return &x }\n"
    linemap = parse_diff(git_diff(tmp_path, {"a.go": A}, head_files))
    base = a_escapes({"a.go": A})
    head = [
        *a_escapes(head_files),
        *escapes(head_files, "b.go", "x :=", func="H", kind=Kind.MOVED, expr="x"),
    ]
    expected = compare(base, head, linemap)
    keys = [(f.record.path, f.record.line, f.record.column) for f in expected]
    assert keys == sorted(keys)

    rng = random.Random(7)
    for _ in range(10):
        shuffled_base, shuffled_head = list(base), list(head)
        rng.shuffle(shuffled_base)
        rng.shuffle(shuffled_head)
        assert compare(iter(shuffled_base), iter(shuffled_head), linemap) == expected


def test_empty_inputs() -> None:
    assert compare([], [], LineMap()) == []


VALUE = """package a

type Value struct{ t *Type }

func (v *Value) Name() string {
	return v.t.name
}

func Use(v *Value) {
	sink = v.Name()
}
"""


@pytest.mark.parametrize(
    ("base_expr", "head_expr"),
    [
        ("(*Value).Name(v)", "~r0"),  # the callee became inlinable
        ("~r0", "(*Value).Name(v)"),  # and the other way round
        ("&Type{...}", "~R0"),
        ("Type{...}", "~r1"),
        ("string(b)", "~r0"),
    ],
)
def test_same_escape_under_another_name(tmp_path: Path, base_expr: str, head_expr: str) -> None:
    """Inlining decisions changed in the callee: the compiler names the unchanged call
    site's allocation differently. Nothing was fixed and nothing is indirect."""
    head = {"a.go": VALUE.replace("func (v *Value) Name", "//go:noinline\nfunc (v *Value) Name")}
    base_records = escapes({"a.go": VALUE}, "a.go", "v.Name()", func="Use", expr=base_expr)
    head_records = escapes(head, "a.go", "v.Name()", func="Use", expr=head_expr)
    findings = run(tmp_path, {"a.go": VALUE}, head, base_records, head_records)

    assert verdicts(findings) == [(UNCHANGED, "a.go", 11, head_expr)]


def test_renamed_escape_pairs_only_with_its_own_kind(tmp_path: Path) -> None:
    head = {"a.go": VALUE.replace("package a\n", "package a\n\n// x\n")}
    base_records = escapes({"a.go": VALUE}, "a.go", "v.Name()", func="Use", expr="~r0")
    head_records = escapes(
        head, "a.go", "v.Name()", func="Use", kind=Kind.MOVED, expr="(*Value).Name(v)"
    )
    findings = run(tmp_path, {"a.go": VALUE}, head, base_records, head_records)

    assert [(s, line) for s, _, line, _ in verdicts(findings)] == [
        (INDIRECT_FIXED, 10),
        (INDIRECT, 12),
    ]


ENCODER = """package a

type Encoder struct{ out []int }

func (e *Encoder) Encode(xs []int) {
	e.start()
	for _, x := range xs {
		e.out = append(e.out, x)
		e.out = append(e.out, -x)
	}
}
"""


def test_new_function_header_above_unchanged_lines(tmp_path: Path) -> None:
    """The loop's lines did not change; a function header above them moved them into
    another function. Their appends are the same escapes."""
    head = {
        "a.go": ENCODER.replace(
            "\te.start()\n",
            "\te.start()\n\te.writeBlocks(xs)\n}\n\nfunc (e *Encoder) writeBlocks(xs []int) {\n",
        )
    }
    base_records = escapes({"a.go": ENCODER}, "a.go", "append", func="(*Encoder).Encode")
    head_records = escapes(head, "a.go", "append", func="(*Encoder).writeBlocks")
    findings = run(tmp_path, {"a.go": ENCODER}, head, base_records, head_records)

    assert [(s, line) for s, _, line, _ in verdicts(findings)] == [(UNCHANGED, 12), (UNCHANGED, 13)]


def test_renamed_function_keeps_its_escapes(tmp_path: Path) -> None:
    head = {"a.go": ENCODER.replace("Encode(xs", "EncodeAll(xs")}
    base_records = escapes({"a.go": ENCODER}, "a.go", "append", func="(*Encoder).Encode")
    head_records = escapes(head, "a.go", "append", func="(*Encoder).EncodeAll")
    findings = run(tmp_path, {"a.go": ENCODER}, head, base_records, head_records)

    assert {f.status for f in findings} == {UNCHANGED}


BUF = """package a

type Buf struct{ b []byte }

func NewBuf() *Buf { return &Buf{b: make([]byte, 0, 8)} }

func Make() *Buf {
	return NewBuf()
}
"""


def _buf_escapes(files: Files, *, inlined: bool) -> list[EscapeRecord]:
    callee = [
        *escapes(files, "a.go", "&Buf{b: make([]byte, 0, 8)}", func="NewBuf", expr="&Buf{...}"),
        *escapes(files, "a.go", "make([]byte, 0, 8)", func="NewBuf"),
    ]
    if not inlined or "return NewBuf()" not in files["a.go"]:
        return callee
    return [
        *callee,
        *escapes(files, "a.go", "return NewBuf()", func="Make", expr="&Buf{...}"),
        *escapes(files, "a.go", "return NewBuf()", func="Make", expr="make([]byte, 0, 8)"),
    ]


def test_callee_no_longer_inlined_fixes_nothing(tmp_path: Path) -> None:
    """The records at the unchanged call site vanish while the callee still allocates:
    gone from an unchanged line, which is not fixed."""
    head = {"a.go": BUF.replace("func NewBuf", "//go:noinline\nfunc NewBuf")}
    base_records = _buf_escapes({"a.go": BUF}, inlined=True)
    findings = run(tmp_path, {"a.go": BUF}, head, base_records, _buf_escapes(head, inlined=False))

    assert [(s, line, e) for s, _, line, e in verdicts(findings)] == [
        (UNCHANGED, 6, "&Buf{...}"),
        (UNCHANGED, 6, "make([]byte, 0, 8)"),
        (INDIRECT_FIXED, 8, "&Buf{...}"),
        (INDIRECT_FIXED, 8, "make([]byte, 0, 8)"),
    ]
    assert not [f for f in findings if f.status is FIXED]


def test_escape_removed_with_its_line_is_fixed(tmp_path: Path) -> None:
    head = {"a.go": BUF.replace("\treturn NewBuf()\n", "\treturn nil\n")}
    base_records = _buf_escapes({"a.go": BUF}, inlined=True)
    findings = run(tmp_path, {"a.go": BUF}, head, base_records, _buf_escapes(head, inlined=False))

    assert [(s, line) for s, _, line, _ in verdicts(findings) if s is not UNCHANGED] == [
        (FIXED, 8),
        (FIXED, 8),
    ]


def test_kept_lines_do_not_pair_as_moves() -> None:
    """A NEW record in another file is no move of a record whose line is still there."""
    linemap = LineMap((FileChange(None, "new.go", added=frozenset({3})),))
    base = [_rec("old.go", 8)]
    head = [_rec("new.go", 3)]

    findings = compare(base, head, linemap)

    assert [(f.status, f.record.path) for f in findings] == [
        (NEW, "new.go"),
        (INDIRECT_FIXED, "old.go"),
    ]


KEEP = """package a

type Box[T any] struct{ v T }

func Keep[T any](v T) *Box[T] {
	b := &Box[T]{v: v}
	sink = b
	return b
}
"""


def _shapes(files: Files, *shapes: str) -> list[EscapeRecord]:
    return [
        r
        for shape in shapes
        for r in escapes(files, "a.go", "&Box[T]{v: v}", func="Keep", expr=f"&Box[{shape}]{{...}}")
    ]


@pytest.mark.parametrize(
    ("base_shapes", "head_shapes", "expected"),
    [
        (["go.shape.int"], ["go.shape.string"], [UNCHANGED]),
        (
            ["go.shape.int", "go.shape.string"],
            ["go.shape.float64", "go.shape.int"],
            [UNCHANGED] * 2,
        ),
        (["go.shape.int"], ["go.shape.int", "go.shape.string"], [INDIRECT, UNCHANGED]),
        (["go.shape.int", "go.shape.string"], ["go.shape.string"], [INDIRECT_FIXED, UNCHANGED]),
    ],
)
def test_generic_body_whose_instantiations_changed(
    tmp_path: Path, base_shapes: list[str], head_shapes: list[str], expected: list[Status]
) -> None:
    """The callers changed (elsewhere); the generic body did not. Its allocation is the
    same escape whatever it is instantiated with; only a change in the count is indirect."""
    head = {"a.go": "// Package a keeps boxes.\n" + KEEP}
    base_records = _shapes({"a.go": KEEP}, *base_shapes)
    head_records = _shapes(head, *head_shapes)
    linemap = parse_diff(git_diff(tmp_path, {"a.go": KEEP}, head))

    findings = compare(base_records, head_records, linemap, key=identity)

    assert_accounted(base_records, head_records, findings)
    assert sorted(f.status for f in findings) == sorted(expected)


def test_records_outside_the_repository_never_pair_by_name() -> None:
    """The toolchain's generic code: an instantiation gone from one function of slices and
    another appeared in another are two changes, not one escape that moved."""
    goroot = "slices/slices.go"
    base = [_rec(goroot, 224, func="")._replace(expression="append", in_repo=False)]
    head = [_rec(goroot, 355, func="")._replace(expression="append", in_repo=False)]

    findings = compare(base, head, LineMap())

    assert_accounted(base, head, findings)
    assert [(f.status, f.record.line) for f in findings] == [(INDIRECT_FIXED, 224), (INDIRECT, 355)]


EXTRACTED = ENCODER.replace(
    "\te.start()\n",
    "\te.start()\n\te.writeBlocks(xs)\n}\n\nfunc (e *Encoder) writeBlocks(xs []int) {\n",
)


def _extracted(*, inlined: bool, extra: bool = False) -> tuple[list[EscapeRecord], Files]:
    """The loop of ENCODER moved into writeBlocks, called where it was; ``inlined``: the
    compiler inlined writeBlocks there and reports its appends at the call too."""
    text = (
        EXTRACTED.replace(
            "\te.writeBlocks(xs)\n", "\te.writeBlocks(xs)\n\te.out = append(e.out, 0)\n"
        )
        if extra
        else EXTRACTED
    )
    files = {"a.go": text}
    header = text.split("\n").index("func (e *Encoder) writeBlocks(xs []int) {") + 1
    appends = escapes(files, "a.go", "append", func="(*Encoder).writeBlocks")
    records = [r for r in appends if r.line > header]
    call = escapes(files, "a.go", "e.writeBlocks(xs)", func="(*Encoder).Encode", expr="append")
    if inlined:
        records += [call[0], call[0]._replace(column=call[0].column + 1)]
        records.append(
            call[0]._replace(
                kind=Kind.INLINING,
                expression="(*Encoder).writeBlocks",
                message="inlining call to (*Encoder).writeBlocks",
            )
        )
    if extra:
        records += [r._replace(function="(*Encoder).Encode") for r in appends if r.line < header]
    return records, files


@pytest.mark.parametrize("inlined", [False, True])
def test_inlined_copies_of_code_moved_into_a_new_function_are_not_new(
    tmp_path: Path, inlined: bool
) -> None:
    base_records = escapes({"a.go": ENCODER}, "a.go", "append", func="(*Encoder).Encode")
    head_records, head = _extracted(inlined=inlined)
    findings = run_loose(tmp_path, {"a.go": ENCODER}, head, base_records, head_records)

    assert {f.status for f in findings} == {UNCHANGED}
    assert len(findings) == (4 if inlined else 2)


def test_a_new_allocation_beside_an_inlined_extraction_stays_new(tmp_path: Path) -> None:
    base_records = escapes({"a.go": ENCODER}, "a.go", "append", func="(*Encoder).Encode")
    head_records, head = _extracted(inlined=True, extra=True)
    findings = run_loose(tmp_path, {"a.go": ENCODER}, head, base_records, head_records)

    assert [f.record.line for f in findings if f.status is NEW] == [8]


def run_loose(
    tmp_path: Path,
    base_files: Files,
    head_files: Files,
    base: Sequence[EscapeRecord],
    head: Sequence[EscapeRecord],
) -> list[Finding]:
    """``run`` for findings that may count an inlined copy as unchanged without a base record."""
    findings = compare(base, head, parse_diff(git_diff(tmp_path, base_files, head_files)))
    assert Counter(f.record for f in findings if f.status is not FIXED) == Counter(
        r for r in head if r.is_heap
    )
    return findings


PAIR = """package a

func F() {
	x, y := 1, 2
	sink = &x
	_ = y
}
"""


def test_two_variables_of_one_line_are_not_one_renamed_escape(tmp_path: Path) -> None:
    """x stops escaping and y starts, both through edits in F: not one escape renamed."""
    head = {"a.go": PAIR.replace("sink = &x", "sink = &y").replace("_ = y", "_ = x")}
    base_records = escapes({"a.go": PAIR}, "a.go", "x,", func="F", kind=Kind.MOVED, expr="x")
    head_records = escapes(head, "a.go", "y :=", func="F", kind=Kind.MOVED, expr="y")
    findings = run(tmp_path, {"a.go": PAIR}, head, base_records, head_records)

    # Kept line: attribution (verdict.attribute) then finds the edits in F that name them.
    assert [(s, e) for s, _, _, e in verdicts(findings)] == [(INDIRECT_FIXED, "x"), (INDIRECT, "y")]
