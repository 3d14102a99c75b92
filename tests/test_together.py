"""Both revisions built by one go command: the head's packages as copies beside the base's."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from escape_guard.builds import analysis, together
from escape_guard.builds.checkout import Tree
from escape_guard.builds.goimports import header, import_specs
from escape_guard.builds.together import SHADOW, Arrangement, HeadCopies
from escape_guard.errors import BuildError
from escape_guard.model import EscapeRecord, Kind, Report
from escape_guard.pipeline import DiffOptions, run_diff
from escape_guard.render.json import render as render_json
from tests.conftest import Repo

GO_MOD = "module example.com/m\n\ngo 1.21\n"


# --- the import lexer --------------------------------------------------------------------------


def test_imports_are_read_past_comments_that_look_like_code() -> None:
    source = (
        '// Package p.\n//go:build linux\n\n/* a block\n   import "nope" */\npackage p\n\n'
        'import "fmt"\n'
        "import (\n"
        '\t"os" // see os.Open(name)\n'
        '\tstr "strings" /* ) */\n'
        '\t. "math"\n'
        '\t_ "embed"; "errors"\n'
        "\t`raw/path`\n"
        ")\n\n"
        'var x = "example.com/not/an/import"\n'
        'import "after/a/declaration"\n'
    )
    specs = import_specs(source)
    assert specs is not None
    assert [s.path for s in specs] == [
        "fmt",
        "os",
        "strings",
        "math",
        "embed",
        "errors",
        "raw/path",
    ]
    for spec in specs:  # offsets take in the quotes
        assert source[spec.start] in '"`' and source[spec.end - 1] == source[spec.start]
        assert source[spec.start + 1 : spec.end - 1] == spec.path


def test_a_cgo_preamble_is_a_comment() -> None:
    source = 'package p\n\n/*\n#include "x.h"\n*/\nimport "C"\n\nimport "fmt"\n'
    assert [s.path for s in import_specs(source) or []] == ["C", "fmt"]


@pytest.mark.parametrize(
    "source",
    [
        "",  # no package clause
        'package p\n\nimport (\n\t"fmt"\n',  # unclosed
        'package p\n\nimport "f\\x6dt"\n',  # an escape in a path
        "package p\n\n/* unclosed comment\n",
        "package p\n\nimport fmt\n",  # no path
    ],
)
def test_headers_it_cannot_read_are_said_so(source: str) -> None:
    assert import_specs(source) is None


def test_a_file_without_imports() -> None:
    assert import_specs("package p\n\nfunc F() {}\n") == []


def test_the_header_is_what_go_list_reads_up_to_the_first_other_declaration() -> None:
    top = '//go:build linux\n\npackage p\n\nimport (\n\t"fmt" // see fmt.Println\n)\n\n'
    body = '// F says hello.\nfunc F() { fmt.Println(`import "os"`) }\n'
    assert header(top + body) == top + "// F says hello.\n"  # with the comments before it
    assert header(top + body.replace('"os"', '"io"')) == header(top + body)  # the body only
    assert header(top + body.replace("hello", "bye")) != header(top + body)  # the doc comment
    assert header(top.replace("linux", "darwin") + body) != header(top + body)
    assert header("package p\n") == "package p\n"
    assert header("package p\n\nimport (\n") is None


# --- mapping the copies back -------------------------------------------------------------------


def test_records_of_the_copies_read_as_the_head_prints_them() -> None:
    copies = HeadCopies({f"example.com/m/{SHADOW}": "example.com/m"})
    record = EscapeRecord(
        path=f"example.com/m/{SHADOW}/a/a.go",
        line=6,
        column=2,
        kind=Kind.MOVED,
        expression="x",
        message="moved to heap: x",
        package=f"example.com/m/{SHADOW}/a",
        explanation=(f"  from &x (address-of) at example.com/m/{SHADOW}/a/a.go:7:9",),
    )
    assert copies.is_head(record)
    head = copies.head_record(record)
    assert head.path == "example.com/m/a/a.go" and head.package == "example.com/m/a"
    assert head.explanation == ("  from &x (address-of) at example.com/m/a/a.go:7:9",)
    root = record._replace(path=f"example.com/m/{SHADOW}/m.go", package=f"example.com/m/{SHADOW}")
    assert copies.head_record(root).package == "example.com/m"
    assert not copies.is_head(record._replace(package="example.com/m/a"))
    # The header decides: a generic function of an uncopied package, instantiated in a copy.
    assert copies.is_head(record._replace(path="example.com/m/c/c.go"))
    assert copies.is_head(record._replace(package=""))  # no header: the path
    assert not copies.is_head(record._replace(package="", path="example.com/m/a/a.go"))


# --- what one go command cannot build --------------------------------------------------------


def arranged_in(root: Path, files: dict[str, str], *, changed: list[str]) -> Arrangement | str:
    """``arrange`` for a tree holding ``files`` as both revisions (it reads, never builds)."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    scratch = root.parent / "scratch"
    scratch.mkdir()
    tree = Tree(str(root), how="in place")
    packages = frozenset(os.path.dirname(p) for p in changed)
    return together.arrange(
        tree, tree, patterns=("./...",), packages=packages, changed=changed, scratch=str(scratch)
    )


def test_assembly_beside_a_changed_package_keeps_the_revisions_apart(tmp_path: Path) -> None:
    files = {"go.mod": GO_MOD, "a/a.go": "package a\n\nfunc Add(x, y int) int\n"}
    files["a/add_amd64.s"] = "TEXT ·Add(SB),$0\n\tRET\n"
    assert arranged_in(tmp_path / "r", files, changed=["a/a.go"]) == "a/add_amd64.s is not Go"


def test_a_copy_importing_a_changed_package_of_another_module_keeps_them_apart(
    tmp_path: Path,
) -> None:
    files = {
        "go.mod": GO_MOD,
        "go.work": "go 1.21\n\nuse (\n\t.\n\t./tools\n)\n",
        "a/a.go": 'package a\n\nimport "example.com/tools/t"\n\nvar X = t.T\n',
        "tools/go.mod": "module example.com/tools\n\ngo 1.21\n",
        "tools/t/t.go": "package t\n\n// T is shared.\nvar T = 1\n",
    }
    why = arranged_in(tmp_path / "r", files, changed=["a/a.go", "tools/t/t.go"])
    assert why == "a imports example.com/tools/t, of another module with changes"


def test_the_copies_directory_must_not_exist(tmp_path: Path) -> None:
    files = {"go.mod": GO_MOD, "a/a.go": "package a\n", f"{SHADOW}/keep.txt": "mine\n"}
    assert arranged_in(tmp_path / "r", files, changed=["a/a.go"]) == f"{SHADOW} exists"


def test_module_files_and_vendored_code_keep_the_revisions_apart(tmp_path: Path) -> None:
    files = {"go.mod": GO_MOD, "a/a.go": "package a\n"}
    root = tmp_path / "r"
    assert arranged_in(root, files, changed=["a/a.go", "go.sum"]) == "go.sum differs"
    vendored = "vendor/example.org/x/x.go"
    (tmp_path / "scratch").rmdir()
    why = arranged_in(root, files, changed=["a/a.go", vendored])
    assert why == f"{vendored} differs, in vendored code"


# --- one go command against two ----------------------------------------------------------------


class Spy:
    """Records what ``arrange`` decided in each run."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.arranged: list[Arrangement | str] = []
        self.overlays: list[dict[str, str]] = []  # each arrangement's, read before it goes
        real = analysis.arrange

        def spy(*args: Any, **kwargs: Any) -> Arrangement | str:
            result = real(*args, **kwargs)
            self.arranged.append(result)
            if isinstance(result, Arrangement):
                overlay = Path(result.overlay).read_text(encoding="utf-8")
                self.overlays.append(json.loads(overlay)["Replace"])
            return result

        monkeypatch.setattr(analysis, "arrange", spy)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spy]:
    yield Spy(monkeypatch)


def compare_ways(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, *, head: str = "feature", explain: bool = True
) -> tuple[Report, Report]:
    """The report built by one go command, and the one built apart; the same but timings and
    what they compiled (the second finds what the first compiled in the cache)."""
    options = DiffOptions(
        repo=str(repo.path), base="main", head=head, env=repo.env, explain=explain
    )
    together = run_diff(options)
    with monkeypatch.context() as patched:
        patched.setattr(analysis, "_build_together", lambda *_args: None)
        apart = run_diff(options)
    unmeasured = {"timings": (), "compiled": ()}
    assert render_json(together._replace(**unmeasured)) == render_json(apart._replace(**unmeasured))
    return together, apart


LIB_B = "package b\n\nvar Sink any\n\n// Keep keeps v.\nfunc Keep(v *int) {\n\tSink = v\n}\n"
LIB_C = (
    'package c\n\nimport "example.com/m/b" // b.Keep(x) keeps\n\n'
    "// Pass passes v on.\nfunc Pass(v *int) {\n\tb.Keep(v)\n}\n"
)
LIB_A = (
    'package a\n\nimport (\n\t"fmt" // fmt.Println(b) )\n\t"example.com/m/c"\n)\n\n'
    "// F escapes.\nfunc F() {\n\tx := 1\n\tc.Pass(&x)\n\tfmt.Println(x)\n}\n"
)


def on_feature(repo: Repo) -> None:
    """main: a → c → b; the branch feature checked out, for the test's commit."""
    repo.commit({"go.mod": GO_MOD, "a/a.go": LIB_A, "b/b.go": LIB_B, "c/c.go": LIB_C})
    repo.git("switch", "--quiet", "-c", "feature")


@pytest.mark.go
def test_packages_between_changed_ones_are_built_at_the_head(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    """a → c → b, with a and b changed: a's copy must see the head's b, through c's copy."""
    on_feature(repo)
    repo.commit(
        {
            # b no longer keeps its argument: x in a no longer escapes, at the head only.
            "b/b.go": LIB_B.replace("Sink = v", "Sink = *v"),
            "a/a.go": LIB_A.replace("x := 1", "x := 2\n\ty := new(int)\n\tSink = y"),
            "a/sink.go": "package a\n\n// Sink keeps.\nvar Sink any\n",
        }
    )
    together, _ = compare_ways(repo, monkeypatch)
    arranged = spy.arranged[0]
    assert isinstance(arranged, Arrangement), arranged
    (step,) = arranged.steps
    # b's body is small enough to inline: c, which imports it, is compiled in the same round
    assert set(step.patterns) == {
        f"./{p}" for p in ("a", "b", "c", f"{SHADOW}/a", f"{SHADOW}/b")
    } | {f"./{SHADOW}/c"}
    assert arranged.explained == tuple(f"example.com/m/{SHADOW}/{p}" for p in "abc")
    new = {(f.record.path, f.record.message) for f in together.findings if f.status == "new"}
    assert ("a/a.go", "new(int) escapes to heap") in new
    fixed = {(f.record.path, f.record.message) for f in together.findings if f.status == "fixed"}
    assert ("a/a.go", "moved to heap: x") in fixed  # seen only if a's copy uses c's copy


@pytest.mark.go
def test_generic_code_instantiated_in_a_copy(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    """Records at the generic function's own lines, printed under the copy that instantiates it."""
    generic = (
        "package g\n\nvar Sink any\n\n// Keep keeps v.\n"
        "func Keep[T any](v *T) {\n\tSink = v\n}\n\n"
        "// Box boxes v.\nfunc Box[T any](v T) any {\n\treturn v\n}\n"
    )
    user = (
        'package u\n\nimport "example.com/m/g"\n\n// F uses g.\n'
        "func F() any {\n\tx := 1\n\tg.Keep(&x)\n\treturn g.Box(x)\n}\n"
    )
    repo.commit({"go.mod": GO_MOD, "g/g.go": generic, "u/u.go": user})
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit(
        {
            "g/g.go": generic.replace("\tSink = v\n", "\tSink = *v\n"),
            "u/u.go": user.replace("return g.Box(x)", "return g.Box(&x)"),
        }
    )
    together, _ = compare_ways(repo, monkeypatch)
    arranged = spy.arranged[0]
    assert isinstance(arranged, Arrangement), arranged
    new = {(f.record.path, f.record.package) for f in together.findings if f.status == "new"}
    assert ("g/g.go", "example.com/m/u") in new
    assert not any(SHADOW in f.record.path + f.record.package for f in together.findings)


@pytest.mark.go
def test_too_many_packages_to_scan_are_built_apart(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    on_feature(repo)
    repo.commit({"a/a.go": LIB_A.replace("x := 1", "x := 2"), "b/b.go": LIB_B + "\n"})
    monkeypatch.setattr(together, "_MAX_SCANNED", 2)  # a, then c: b would be the third
    compare_ways(repo, monkeypatch)
    assert spy.arranged == ["the changed packages import more than 2 others"]


@pytest.mark.go
def test_one_changed_package_needs_no_import_scan(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    on_feature(repo)
    repo.commit({"a/a.go": LIB_A.replace("x := 1", "x := 2")})
    compare_ways(repo, monkeypatch)
    arranged = spy.arranged[0]
    assert isinstance(arranged, Arrangement)
    assert arranged.steps[0].patterns == ("./a", f"./{SHADOW}/a")


@pytest.mark.go
def test_the_working_tree_at_the_head_and_nested_modules(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    tools_mod = "module example.com/tools\n\ngo 1.21\n"
    repo.commit({"go.mod": GO_MOD, "b/b.go": LIB_B, "tools/go.mod": tools_mod})
    repo.commit({"tools/t.go": "package tools\n\nfunc T() any {\n\tv := 1\n\treturn &v\n}\n"})
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit(
        {
            "b/b.go": LIB_B + "\n// Two keeps.\nfunc Two(v *int) {\n\tSink = v\n}\n",
            "tools/t.go": "package tools\n\nfunc T() any {\n\tv := 2\n\treturn &v\n}\n",
            "main.go": "package main\n\nfunc main() {\n\tp := new(int)\n\tprintln(p)\n}\n",
        }
    )
    together, _ = compare_ways(repo, monkeypatch, head="HEAD")
    arranged = spy.arranged[0]
    assert isinstance(arranged, Arrangement)
    assert {s.module.dir: s.patterns for s in arranged.steps} == {
        "": ("./b", f"./{SHADOW}", f"./{SHADOW}/b"),
        "tools": (".", f"./{SHADOW}"),
    }
    assert together.notes == ()


@pytest.mark.go
def test_internal_packages_a_copy_could_not_import_are_copied_too(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    helper = "package x\n\n// Ptr allocates.\nfunc Ptr() *int {\n\treturn new(int)\n}\n"
    user = 'package a\n\nimport "example.com/m/a/internal/x"\n\nvar P = x.Ptr()\n'
    shared = 'package a\n\nimport "example.com/m/internal/y"\n\nvar Q = y.Q\n'
    repo.commit(
        {
            "go.mod": GO_MOD,
            "a/a.go": user,
            "a/shared.go": shared,
            "a/internal/x/x.go": helper,
            "internal/y/y.go": "package y\n\n// Q is shared.\nvar Q = 1\n",
        }
    )
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"a/a.go": user + "\nvar R = x.Ptr()\n"})
    together, _ = compare_ways(repo, monkeypatch)
    arranged = spy.arranged[0]
    assert isinstance(arranged, Arrangement)
    overlaid = {os.path.relpath(os.path.dirname(p), repo.path) for p in spy.overlays[0]}
    copied = {d for d in overlaid if d.startswith(SHADOW)}
    # a/internal/x is only visible from a/...; internal/y from the whole module.
    assert copied == {f"{SHADOW}/a", f"{SHADOW}/a/internal/x"}
    assert together.notes == ()


CGO = (
    'package a\n\n/*\nint one() { return 1; }\n*/\nimport "C"\n\n'
    "// One calls C.\nfunc One() int {\n\treturn int(C.one())\n}\n"
)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"go.mod": GO_MOD + "\n// edited\n"}, "go.mod differs"),
        ({"a/embed.go": 'package a\n\nimport _ "embed"\n\n//go:embed data.txt\nvar data string\n',
          "a/data.txt": "x\n"}, "a/embed.go embeds files"),
        ({"a/literal.go": 'package a\n\nimport "example.com/m/b"\n\nvar _ = b.Keep\n\n'
          'const name = "example.com/m/b"\n',
          "b/b.go": LIB_B + "\n// More.\nfunc More() {}\n"},
         "a/literal.go names example.com/m/b outside its imports"),
    ],
)  # fmt: skip
@pytest.mark.go
def test_what_one_command_cannot_build_is_built_apart(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, spy: Spy, change: dict[str, str], why: str
) -> None:
    on_feature(repo)
    repo.commit({"a/a.go": LIB_A.replace("x := 1", "x := 3"), **change})
    together, _ = compare_ways(repo, monkeypatch)
    assert spy.arranged[0] == why  # a second wave may build importers of b
    assert together.findings  # built, apart


@pytest.mark.go
@pytest.mark.skipif(os.environ.get("CGO_ENABLED") == "0", reason="cgo is disabled here")
def test_cgo_packages_are_built_apart(repo: Repo, spy: Spy) -> None:
    repo.commit({"go.mod": GO_MOD, "a/a.go": CGO})
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"a/a.go": CGO.replace("return 1", "return 2")})
    options = DiffOptions(repo=str(repo.path), base="main", head="feature", env=repo.env)
    with contextlib.suppress(Exception):  # whether cgo builds here is not the point
        run_diff(options)
    assert spy.arranged == ["a/a.go uses cgo"]


@pytest.mark.go
def test_a_one_command_build_that_fails_where_apart_ones_pass_is_said(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_feature(repo)
    repo.commit({"a/a.go": LIB_A.replace("x := 1", "x := 4")})
    options = DiffOptions(repo=str(repo.path), base="main", head="feature", env=repo.env)
    expected = run_diff(options)
    real = analysis.run_build

    def failing_together(*args: Any, label: str, **kwargs: Any) -> list[EscapeRecord]:
        if label == "base and head revisions":
            raise BuildError("the base and head revisions do not build")
        return real(*args, label=label, **kwargs)

    monkeypatch.setattr(analysis, "run_build", failing_together)
    report = run_diff(options)
    assert report.notes == ("the revisions could not be built by one go command: built apart",)
    assert report.findings == expected.findings


@pytest.mark.go
def test_a_failing_build_is_retried_apart_to_name_the_revision(repo: Repo, spy: Spy) -> None:
    on_feature(repo)
    repo.commit({"a/a.go": LIB_A.replace("x := 1", "x := undefined")})
    options = DiffOptions(repo=str(repo.path), base="main", head="feature", env=repo.env)
    with pytest.raises(BuildError, match=r"the head revision \w+ does not build"):
        run_diff(options)
    assert isinstance(spy.arranged[0], Arrangement)


COPY = f"example.com/m/{SHADOW}"


@pytest.mark.parametrize(
    ("printed", "original"),
    [
        # A call of a generic function of a copied package, with its dictionary.
        (
            f"b.Get[go.shape.struct {{ N int }}](&b..dict.Get[{COPY}/b.T], t)",
            "b.Get[go.shape.struct { N int }](&b..dict.Get[example.com/m/b.T], t)",
        ),
        (f"Keep[*{COPY}/b.T]", "Keep[*example.com/m/b.T]"),
        (f"Pair[{COPY}/b.T,{COPY}.Root]", "Pair[example.com/m/b.T,example.com/m.Root]"),
        # The module's root package copied: a name right after its import path.
        (f"&{COPY}.T{{...}}", "&example.com/m.T{...}"),
        (f"{COPY}/a/a.go:7:9", "example.com/m/a/a.go:7:9"),
        (COPY, "example.com/m"),
        # Not a copy: a longer name, or a path that only ends the same way.
        (f"{COPY}x.T", f"{COPY}x.T"),
        (f"other.org/{COPY}/b.T", f"other.org/{COPY}/b.T"),
        ("b.T{...}", "b.T{...}"),
    ],
)
def test_no_text_printed_for_a_copy_keeps_its_name(printed: str, original: str) -> None:
    copies = HeadCopies({COPY: "example.com/m"})
    assert copies.original(printed) == original
    record = EscapeRecord(
        path=f"{COPY}/a/a.go",
        line=7,
        column=9,
        kind=Kind.ESCAPE,
        expression=printed,
        message=f"{printed} escapes to heap in Keep[{COPY}/b.T]",
        function=f"Keep[{COPY}/b.T]",
        package=f"{COPY}/a",
        explanation=(f"  from {printed} (spill) at {COPY}/a/a.go:7:9",),
    )
    head = copies.head_record(record)
    assert head == EscapeRecord(
        path="example.com/m/a/a.go",
        line=7,
        column=9,
        kind=Kind.ESCAPE,
        expression=original,
        message=f"{original} escapes to heap in Keep[example.com/m/b.T]",
        function="Keep[example.com/m/b.T]",
        package="example.com/m/a",
        explanation=(f"  from {original} (spill) at example.com/m/a/a.go:7:9",),
    )


@pytest.mark.go
def test_a_comment_on_a_line_naming_a_copied_package_changes_nothing(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, spy: Spy
) -> None:
    """Escapes whose text names a type, an instantiation or a function of another copied
    package: an edited line keeps them, in one go command as in two."""
    lib = (
        "package b\n\n// T is a value.\ntype T struct{ N int }\n\n// Box boxes.\n"
        "type Box[E any] struct{ v E }\n\n// Get returns v.\n//go:noinline\n"
        "func Get[E any](v E) E { return v }\n\n// Val returns the boxed value.\n"
        "//go:noinline\nfunc (x Box[E]) Val() E { return x.v }\n"
    )
    user = (
        'package a\n\nimport "example.com/m/b"\n\n'
        "// M boxes a T.\nfunc M(t b.T) any { return b.Get(t) }\n\n"
        "// N boxes a boxed T.\nfunc N(x b.Box[b.T]) any { return x.Val() }\n"
    )
    repo.commit({"go.mod": GO_MOD, "b/b.go": lib, "a/a.go": user})
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit(
        {
            "b/b.go": lib.replace("// T is a value.", "// T is a value type."),
            "a/a.go": user.replace("b.Get(t) }", "b.Get(t) } // boxed").replace(
                "x.Val() }", "x.Val() } // boxed"
            ),
        }
    )
    together, _ = compare_ways(repo, monkeypatch)
    assert isinstance(spy.arranged[0], Arrangement), spy.arranged[0]
    statuses = {(f.record.line, f.status.value) for f in together.findings}
    assert statuses == {(6, "unchanged"), (9, "unchanged")}
    for finding in together.findings:
        record = finding.record
        texts = [record.expression, record.message, record.function, *record.explanation]
        assert not any(SHADOW in text for text in texts), record
    assert any("example.com/m/b.T]" in f.record.expression for f in together.findings)
