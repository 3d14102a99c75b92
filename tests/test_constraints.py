"""Build constraints: which changed files a build never compiles, said in the notes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from escape_guard.builds.constraints import Platform, build_line, excluded_by, platform_of
from escape_guard.pipeline import DiffOptions, run_diff
from tests.conftest import Repo
from tests.reference import BuildOptions, Row, project, reference

LINUX = Platform("linux", "amd64", frozenset(), cgo=True, release=27)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("x.go", None),
        ("windows.go", None),  # the suffix rule starts at the first "_"
        ("x_windows.go", "needs GOOS=windows"),
        ("x_linux.go", None),
        ("x_arm64.go", "needs GOARCH=arm64"),
        ("x_linux_arm64.go", "needs GOOS=linux and GOARCH=arm64"),
        ("x_windows_amd64.go", "needs GOOS=windows and GOARCH=amd64"),
        ("x_darwin_test.go", "needs GOOS=darwin"),
        ("x_other.go", None),
    ],
)
def test_file_names(name: str, why: str | None) -> None:
    assert excluded_by(name, "package x\n", LINUX) == why


@pytest.mark.parametrize(
    ("line", "compiled"),
    [
        ("linux", True),
        ("windows", False),
        ("!windows", True),
        ("linux && amd64", True),
        ("linux && !amd64", False),
        ("darwin || (linux && cgo)", True),
        ("unix", True),
        ("integration", False),
        ("go1.21", True),
        ("!go1.22", False),
        ("go1.99", False),
        ("gc && !purego", True),
        ("(linux", True),  # unreadable: compiled, as the compiler will say what is wrong
    ],
)
def test_build_lines(line: str, compiled: bool) -> None:
    text = f"// Copyright.\n\n//go:build {line}\n\npackage x\n"
    assert build_line(text) == line
    assert (excluded_by("x.go", text, LINUX) is None) is compiled


def test_a_build_line_after_the_package_clause_is_no_constraint() -> None:
    assert build_line("package x\n\n//go:build ignore\n") is None
    assert build_line("/* a\n//go:build ignore\n*/\npackage x\n") is None


def test_tags_and_implied_systems() -> None:
    tagged = LINUX._replace(tags=frozenset({"integration"}))
    assert excluded_by("x.go", "//go:build integration\n\npackage x\n", tagged) is None
    android = Platform("android", "arm64")
    assert excluded_by("x_linux.go", "package x\n", android) is None


def test_the_platform_follows_the_environment() -> None:
    target = platform_of({"GOOS": "windows", "GOARCH": "arm64"}, tags=("a",), version="go1.25.5")
    assert (target.name, target.tags, target.cgo, target.release) == (
        "windows/arm64",
        frozenset({"a"}),
        False,  # cross-compiling: no cgo unless asked for
        25,
    )


GO_MOD = "module example.com/m\n\ngo 1.21\n"
LIB = "package lib\n\n// Fine allocates nothing.\nfunc Fine() int {\n\treturn 1\n}\n"
WINDOWS = (
    "package lib\n\nvar held *int\n\n// Hold keeps h.\nfunc Hold() {\n\th := 2\n\theld = &h\n}\n"
)


@pytest.mark.go
def test_changes_no_build_compiles_are_named_and_a_package_of_them_is_no_failure(
    repo: Repo,
) -> None:
    repo.commit({"go.mod": GO_MOD, "lib/lib.go": LIB})
    repo.git("checkout", "--quiet", "-b", "feature")
    integration = "//go:build integration\n\n" + WINDOWS.replace("held", "kept")
    repo.commit(
        {
            "lib/hold_windows.go": WINDOWS,
            "lib/it.go": integration,
            "winonly/w_windows.go": WINDOWS.replace("package lib", "package winonly"),
        }
    )
    options = DiffOptions(repo=str(repo.path), base="main", head="feature", env=repo.env)
    report = run_diff(options)
    assert project(report) == reference(repo.path, "main", "feature", repo.env) == []
    said = [n for n in report.notes if n.startswith("not analysed")]
    assert said == [
        "not analysed: `lib/hold_windows.go` needs GOOS=windows (built for "
        f"{platform_of(repo.env).name})",
        "not analysed: `lib/it.go` needs `//go:build integration` (built for "
        f"{platform_of(repo.env).name})",
        "not analysed: `winonly/w_windows.go` needs GOOS=windows (built for "
        f"{platform_of(repo.env).name})",
    ]
    tagged = run_diff(replace(options, config=replace(options.config, tags=("integration",))))
    assert project(tagged) == [Row("new", "lib/it.go", 9, "moved", "h")]


@pytest.mark.go
def test_several_platforms_merge_equal_findings_and_name_the_others(repo: Repo) -> None:
    everywhere = WINDOWS.replace("held", "kept").replace("Hold", "Keep")
    repo.commit({"go.mod": GO_MOD, "lib/lib.go": LIB})
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit({"lib/hold_windows.go": WINDOWS, "lib/keep.go": everywhere})
    options = DiffOptions(
        repo=str(repo.path),
        base="main",
        head="feature",
        env=repo.env,
        platforms=("linux/amd64", "windows/amd64"),
    )
    report = run_diff(options)
    assert report.platforms == ("linux/amd64", "windows/amd64")
    held = {(f.record.path, f.platforms) for f in report.new}
    assert held == {("lib/keep.go", ()), ("lib/hold_windows.go", ("windows/amd64",))}
    windows = BuildOptions(goos="windows", goarch="amd64")
    assert project(report) == reference(repo.path, "main", "feature", repo.env, options=windows)
    assert not any(n.startswith("not analysed") for n in report.notes)  # windows compiles it
    linux_only = run_diff(replace(options, platforms=("linux/amd64",)))
    assert [n for n in linux_only.notes if n.startswith("not analysed")] == [
        "not analysed: `lib/hold_windows.go` needs GOOS=windows (built for linux/amd64)"
    ]
