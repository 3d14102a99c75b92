"""The user's GOFLAGS: -mod=mod never lets a build touch go.mod or go.sum; vendoring still works.

The suite's go_env sets GOFLAGS=-mod=mod on purpose: every build here would have rewritten
the working tree's module files with it.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from escape_guard.builds.compile import build_environment, readonly_goflags
from escape_guard.cli import main
from tests.conftest import Repo
from tests.reference import reference, report_rows

pytestmark = pytest.mark.go

NO_GO_LINE = "module example.com/m\n"
LIB = "package m\n\n// Sum adds.\nfunc Sum(a, b int) int {\n\treturn a + b\n}\n"
KEEP = "\nvar kept *int\n\n// Keep stores n.\nfunc Keep(n int) {\n\tkept = &n\n}\n"


@pytest.mark.parametrize(
    ("goflags", "expected"),
    [
        ("-mod=mod", ""),
        ("--mod=mod", ""),
        ("-mod=mod -tags=x", "-tags=x"),
        ("-tags=x -mod=mod -trimpath", "-tags=x -trimpath"),
        ("-mod=vendor", "-mod=vendor"),
        ("-mod=readonly", "-mod=readonly"),
        ("-modfile=mod.mod", "-modfile=mod.mod"),
        ("-tags=mod=mod", "-tags=mod=mod"),
        ("", ""),
    ],
)
def test_mod_mod_is_taken_out_of_goflags(goflags: str, expected: str) -> None:
    assert readonly_goflags(goflags) == expected


def test_the_build_environment_is_read_only() -> None:
    assert build_environment({"GOFLAGS": "-mod=mod -tags=x"})["GOFLAGS"] == "-tags=x"
    assert build_environment({"GOFLAGS": "-mod=vendor"})["GOFLAGS"] == "-mod=vendor"
    # Empty, GOFLAGS would come from go env -w's file again: it stays set to something inert.
    assert build_environment({"GOFLAGS": "-mod=mod"})["GOFLAGS"] == "-buildvcs=false"
    assert "GOFLAGS" not in build_environment({})


@pytest.fixture(autouse=True)
def _go_environment(monkeypatch: pytest.MonkeyPatch, go_env: dict[str, str]) -> None:
    for key, value in go_env.items():
        monkeypatch.setenv(key, value)
    assert go_env["GOFLAGS"] == "-mod=mod"


def _diff(repo: Repo, *args: str) -> tuple[int, dict[str, Any]]:
    out = repo.path.parent / "report.json"
    out.unlink(missing_ok=True)
    argv = ["diff", "--repo", str(repo.path), "--base", "main", "--format", "json"]
    code = main([*argv, "--output", str(out), *args])
    return code, json.loads(out.read_text()) if out.exists() else {}


def _module_files(repo: Repo) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo.path)): p.read_bytes()
        for p in repo.path.rglob("*")
        if p.name in ("go.mod", "go.sum", "modules.txt")
    }


def test_a_go_mod_without_a_go_line_is_not_rewritten(repo: Repo) -> None:
    # -mod=mod adds `go 1.27.3` to a go.mod that has no go line, in place.
    repo.commit({"go.mod": NO_GO_LINE, "m.go": LIB}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"m.go": LIB + KEEP}, "head")
    before = _module_files(repo)
    for args in ((), ("--all-packages",), ("--head", "HEAD")):
        code, report = _diff(repo, *args)
        assert code == 1, report
        assert [f["expression"] for f in report["new"]] == ["n"]
        assert _module_files(repo) == before
    assert repo.git("status", "--porcelain") == ""


def test_a_base_go_mod_without_a_go_line_builds(repo: Repo) -> None:
    # The base's go.mod reaches the go command through -overlay; -mod=mod cannot rewrite it
    # there and failed: "updates to go.mod needed, but go.mod is part of the overlay".
    repo.commit({"go.mod": NO_GO_LINE, "m.go": LIB}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"go.mod": NO_GO_LINE + "\ngo 1.21\n", "m.go": LIB + KEEP}, "head")
    before = _module_files(repo)
    code, report = _diff(repo)
    assert code == 1, report
    assert [f["expression"] for f in report["new"]] == ["n"]
    assert _module_files(repo) == before
    assert report_rows(report) == reference(repo.path, "main", "feature", repo.env)


VENDORED_GO_MOD = "module example.com/m\n\ngo 1.21\n\nrequire example.com/dep v1.0.0\n"
DEP = "package dep\n\nvar kept *int\n\n// Keep stores p.\nfunc Keep(p *int) {\n\tkept = p\n}\n"
MAIN = 'package main\n\nimport "example.com/dep"\n\nfunc main() {\n\tx := 1\n\t_ = x\n}\n'


@pytest.mark.parametrize("goflags", ["-mod=mod", "-mod=vendor"])
def test_vendoring_stays_the_default(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, goflags: str
) -> None:
    # With -mod=mod the go command would ignore vendor/ and look the module up (GOPROXY=off).
    monkeypatch.setenv("GOFLAGS", goflags)
    repo.commit(
        {
            "go.mod": VENDORED_GO_MOD,
            "vendor/modules.txt": "# example.com/dep v1.0.0\n## explicit\nexample.com/dep\n",
            "vendor/example.com/dep/dep.go": DEP,
            "main.go": MAIN.replace("\t_ = x\n", "\t_ = x\n\t_ = dep.Keep\n"),
        },
        "base",
    )
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"main.go": MAIN.replace("\t_ = x\n", "\tdep.Keep(&x)\n")}, "head")
    before = _module_files(repo)
    code, report = _diff(repo)
    assert code == 1, report
    assert [(f["path"], f["expression"]) for f in report["new"]] == [("main.go", "x")]
    assert _module_files(repo) == before


def file_proxy(root: Path) -> str:
    """A GOPROXY directory serving example.com/dep v1.0.0."""
    at = root / "example.com" / "dep" / "@v"
    at.mkdir(parents=True)
    gomod = "module example.com/dep\n\ngo 1.21\n"
    (at / "list").write_text("v1.0.0\n")
    (at / "v1.0.0.info").write_text('{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}')
    (at / "v1.0.0.mod").write_text(gomod)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("example.com/dep@v1.0.0/go.mod", gomod)
        zf.writestr("example.com/dep@v1.0.0/dep.go", DEP)
    (at / "v1.0.0.zip").write_bytes(data.getvalue())
    return root.as_uri()


def test_a_missing_go_sum_line_is_not_added(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # -mod=mod downloads the module and adds its lines to go.sum; read-only, the revision
    # does not build, as `go build` says in a clean checkout, and go.sum stays as it is.
    monkeypatch.setenv("GOPROXY", file_proxy(tmp_path / "proxy"))
    monkeypatch.setenv("GOSUMDB", "off")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "modcache"))
    repo.commit({"go.mod": VENDORED_GO_MOD, "go.sum": "", "main.go": MAIN}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"main.go": MAIN.replace("\t_ = x\n", "\tdep.Keep(&x)\n")}, "head")
    before = _module_files(repo)
    code, _ = _diff(repo, "--format", "text")
    assert code == 3
    assert _module_files(repo) == before
    err = capsys.readouterr().err
    assert "missing go.sum entry" in err
    assert "GOFLAGS -mod=mod is not used" in err


def test_mod_mod_from_go_env_w_is_not_used(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    goenv = tmp_path / "goenv"
    goenv.write_text("GOFLAGS=-mod=mod\n")
    monkeypatch.setenv("GOENV", str(goenv))
    monkeypatch.delenv("GOFLAGS")
    repo.commit({"go.mod": NO_GO_LINE, "m.go": LIB}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"go.mod": NO_GO_LINE + "\ngo 1.21\n", "m.go": LIB + KEEP}, "head")
    repo.git("switch", "--quiet", "main")
    before = _module_files(repo)
    code, report = _diff(repo, "--head", "feature")
    assert code == 1, report
    assert _module_files(repo) == before


def test_a_workspace_builds_although_goflags_say_mod_mod(repo: Repo) -> None:
    # The go command refuses -mod=mod in workspace mode.
    lib = "package lib\n\n// Val returns n.\nfunc Val(n int) int {\n\treturn n\n}\n"
    repo.commit(
        {
            "go.work": "go 1.21\n\nuse ./lib\n",
            "lib/go.mod": "module example.com/lib\n\ngo 1.21\n",
            "lib/lib.go": lib,
        },
        "base",
    )
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({"lib/lib.go": lib + KEEP}, "head")
    code, report = _diff(repo)
    assert code == 1, report
    assert [(f["path"], f["expression"]) for f in report["new"]] == [("lib/lib.go", "n")]
