"""Enclosing functions from Go source, and compiler function names folded."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_guard.records.functions import fold_function, function_index

GOMOD = Path(__file__).parent / "fixtures" / "gomod"

# The braces in strings, runes and comments would throw off a plain brace count.
SOURCE = """\
package p

import "fmt"

// F is documented. func G() { is not code.
func F() {
	s := "{"
	r := '}'
	fmt.Println(s, r)
}

func (t *T) M() { _ = '{' }

func (t T) V(x struct{ a int }) (y struct{}) {
	/* { */
	return struct{}{}
}

func (l *List[K, V]) Push(v V) {
	l.n++
}

func gen[V any](v V) V { return v }

var hook = func() {
	_ = 1
}

const raw = `
func NotReal() {
}
`

func (*T) Unnamed() {
	x := `}`
	_ = x
}

func asm(x int) int

type T struct {
	a map[string]struct{}
}

func last() {
	if true {
		_ = 1
	}
}
"""


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (1, ""),  # package clause
        (5, ""),  # the doc comment above F
        (6, "F"),
        (7, "F"),  # a string holding "{"
        (9, "F"),  # after a rune holding '}'
        (10, "F"),
        (11, ""),
        (12, "(*T).M"),  # one-line function
        (14, "T.V"),  # struct types in the signature
        (16, "T.V"),  # after a /* { */ comment
        (17, "T.V"),
        (19, "(*List).Push"),  # type parameters dropped
        (20, "(*List).Push"),
        (23, "gen"),  # a generic function
        (25, ""),  # package-level var initialiser
        (26, ""),
        (30, ""),  # "func" at column 0 inside a raw string
        (31, ""),
        (34, "(*T).Unnamed"),  # receiver without a name
        (35, "(*T).Unnamed"),  # a raw string holding "}"
        (37, "(*T).Unnamed"),
        (39, "asm"),  # a declaration without a body
        (40, ""),
        (42, ""),  # a type with braces after a bodiless function
        (46, "last"),
        (48, "last"),
        (49, "last"),
        (50, ""),  # past the end of the file
        (0, ""),
    ],
)
def test_function_at(line: int, name: str) -> None:
    assert function_index(SOURCE).at(line) == name


def test_empty_and_function_free_sources() -> None:
    assert function_index("").at(1) == ""
    assert function_index("package p\n\nvar x = 1\n").at(3) == ""


def test_fixture_module() -> None:
    main = function_index((GOMOD / "main.go").read_text(encoding="utf-8"))
    assert main.at(22) == "grab"  # sinkInt = &v
    assert main.at(26) == "newT"
    assert main.at(32) == "counter"  # inside the closure: the top-level function
    assert main.at(51) == "Max"
    assert main.at(59) == "(*T).Inc"
    assert main.at(65) == "T.Name"
    assert main.at(69) == ""  # the banner raw string with "func notAFunction() {"
    assert main.at(82) == "main"
    sub = function_index((GOMOD / "sub" / "sub.go").read_text(encoding="utf-8"))
    assert sub.at(17) == "(*Store).Put"
    assert sub.at(22) == "Len"
    assert sub.at(36) == "(*List).Push"
    assert sub.at(39) == ""  # var registry = ...
    assert sub.at(55) == ""  # var Hook = func...


def test_compiler_names_match_source_names_after_folding() -> None:
    main = function_index((GOMOD / "main.go").read_text(encoding="utf-8"))
    assert fold_function("Max[go.shape.int]") == main.at(51)
    assert fold_function("(*T).Inc") == main.at(59)


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("F", "F"),
        ("(*T).M", "(*T).M"),
        ("lit.func1", "lit.func#"),
        ("F.func1.2", "F.func#.#"),
        ("F.func12.3.4", "F.func#.#.#"),
        ("glob..func2", "glob..func#"),
        ("init.func1", "init.func#"),
        ("gen[go.shape.int]", "gen"),
        ("Concat[[]uint8,uint8]", "Concat"),
        ("(*List[go.shape.int]).Push", "(*List).Push"),
        (
            "atomic.(*Pointer[go.shape.struct { os.mu sync.Mutex; os.buf *[]uint8 }]).Load",
            "atomic.(*Pointer).Load",
        ),
        (
            "(*Regexp).allStringIndex.func1#4m89CjeH1hI=#-range1",
            "(*Regexp).allStringIndex.func#-range#",
        ),
        ("(*u·1).GcSlice", "(*u·#).GcSlice"),
        ("function1", "function1"),
        ("", ""),
    ],
)
def test_fold_function(name: str, folded: str) -> None:
    assert fold_function(name) == folded
    assert fold_function(folded) == folded
