from __future__ import annotations

from pathlib import Path

import pytest

from escape_guard.builds.checkout import Tree
from escape_guard.builds.compile import BuildSpec, go_command
from escape_guard.builds.modules import (
    Module,
    Step,
    find_modules,
    imports,
    plan,
    standard_library_only,
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel, module in [
        ("", "example.com/root"),
        ("tools", "example.com/tools"),
        ("svc/api", "example.com/api"),
    ]:
        d = tmp_path / rel
        d.mkdir(parents=True, exist_ok=True)
        (d / "go.mod").write_text(f"module {module} // comment\n\ngo 1.21\n")
    for rel in ["cmd/x", "svc/core", "svc/api/v1", "vendor/example.com/v", "testdata/t", ".hidden"]:
        (tmp_path / rel).mkdir(parents=True, exist_ok=True)
    (tmp_path / "vendor/example.com/v/go.mod").write_text("module example.com/v\n")
    (tmp_path / "testdata/t/go.mod").write_text("module example.com/t\n")
    for rel in ["cmd/x/x.go", "svc/core/core.go", "svc/api/v1/v1.go", "tools/gen.go"]:
        (tmp_path / rel).write_text(f"package {Path(rel).parent.name}\n")
    return tmp_path


def test_find_modules_skips_vendor_testdata_hidden(tree: Path) -> None:
    assert find_modules(Tree(str(tree))) == [
        Module("example.com/root", ""),
        Module("example.com/api", "svc/api"),
        Module("example.com/tools", "tools"),
    ]


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["./..."], {"": ("./...",), "svc/api": ("./...",), "tools": ("./...",)}),
        (["./svc/..."], {"": ("./svc/...",), "svc/api": ("./...",)}),
        (["./svc/api/v1"], {"svc/api": ("./v1",)}),
        (["./cmd/x", "./cmd/x"], {"": ("./cmd/x",)}),
        (["./missing/..."], {}),  # not in this revision: skipped, not an error
        (["example.com/api/..."], {"svc/api": ("example.com/api/...",)}),
        (["example.com/root/cmd/x"], {"": ("example.com/root/cmd/x",)}),
        (["."], {"": (".",)}),
    ],
)
def test_plan_splits_patterns_per_module(
    tree: Path, patterns: list[str], expected: dict[str, tuple[str, ...]]
) -> None:
    steps = plan(Tree(str(tree)), find_modules(Tree(str(tree))), patterns)
    assert {s.module.dir: s.patterns for s in steps} == expected


def test_plan_leaves_out_a_module_of_tests_only(tree: Path) -> None:
    (tree / "tools/gen.go").rename(tree / "tools/gen_test.go")
    steps = plan(Tree(str(tree)), find_modules(Tree(str(tree))), ["./..."])
    assert [s.module.dir for s in steps] == ["", "svc/api"]


def test_go_command_flags() -> None:
    cmd = go_command(BuildSpec(tags=("a", "b"), explain=True), ["./..."])
    assert cmd[:2] == ["go", "build"]
    assert "-trimpath" in cmd
    assert "-gcflags=-m=2 -dwarf=false" in cmd
    assert "-tags=a,b" in cmd
    assert cmd[-1] == "./..."
    assert "-gcflags=-m -dwarf=false" in go_command(BuildSpec(), ["./..."])


def test_the_repository_modules_compile_with_diagnostics_without_debugging_information() -> None:
    cmd = go_command(BuildSpec(), ["./a"], modules=["example.com/m", "example.com/m/tools"])
    gcflags = [flag for flag in cmd if flag.startswith("-gcflags=")]
    assert gcflags == [
        "-gcflags=example.com/m/...=-m -dwarf=false",
        "-gcflags=example.com/m/tools/...=-m -dwarf=false",
        # Last: the go command gives a package the last -gcflags whose pattern it matches.
        "-gcflags=-m -dwarf=false",
    ]


@pytest.mark.parametrize(
    ("patterns", "packages", "expected"),
    [
        (["./..."], {"cmd/x", "svc/api/v1"}, {"": ("./cmd/x",), "svc/api": ("./v1",)}),
        (["./svc/..."], {"cmd/x", "svc/core"}, {"": ("./svc/core",)}),
        (["./cmd/x"], {"cmd/x", "svc/core"}, {"": ("./cmd/x",)}),
        (["example.com/api/..."], {"svc/api/v1", "cmd/x"}, {"svc/api": ("./v1",)}),
        (["./..."], {"", "gone"}, {"": (".",)}),  # gone: not in this revision
        (["./..."], {"empty"}, {}),  # a directory without Go files is no package
    ],
)
def test_plan_only_named_packages(
    tree: Path, patterns: list[str], packages: set[str], expected: dict[str, tuple[str, ...]]
) -> None:
    for rel in ("cmd/x", "svc/core", "svc/api/v1", ""):
        (tree / rel / "a.go").write_text("package a\n")
    (tree / "empty").mkdir()
    (tree / "empty" / "a_test.go").write_text("package a\n")
    steps = plan(Tree(str(tree)), find_modules(Tree(str(tree))), patterns, packages=packages)
    assert {s.module.dir: s.patterns for s in steps} == expected


def test_imports_and_the_standard_library(tmp_path: Path) -> None:
    files = {
        "go.mod": "module example.com/m\n",
        "std/a.go": 'package std\n\nimport (\n\t"fmt"\n\tstr "strings"\n)\n',
        "std/b.go": 'package std\n\nimport "os"\n',
        "std/b_test.go": 'package std\n\nimport "example.com/m/util"\n',
        "mine/a.go": 'package mine\n\nimport _ "example.com/m/util"\n',
        "third/a.go": 'package third\n\nimport (\n\t"io"\n\t"golang.org/x/sys/unix"\n)\n',
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    tree = Tree(str(tmp_path))
    assert imports(tree, "std") == {"fmt", "strings", "os"}  # tests are not built
    modules = find_modules(tree)
    only_std = {
        d: standard_library_only(tree, Step(modules[0], (f"./{d}",)), modules)
        for d in ("std", "mine", "third")
    }
    assert only_std == {"std": True, "mine": False, "third": False}
