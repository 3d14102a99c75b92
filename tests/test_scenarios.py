"""End-to-end: `escape-guard diff` on real git repositories with the real Go toolchain."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from escape_guard.cli import main
from escape_guard.git import Git
from tests.conftest import Repo

pytestmark = pytest.mark.go

GO_MOD = "module example.com/m\n\ngo 1.21\n"
LIB = """package m

var sink *int

type T struct{ a int }

// Grab keeps the address of a local.
func Grab() {
	v := 1
	sink = &v
}

// Make returns a pointer to a new T.
func Make() *T {
	return &T{a: 1}
}

// Sum does not allocate.
func Sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}
"""


@pytest.fixture(autouse=True)
def _go_environment(monkeypatch: pytest.MonkeyPatch, go_env: dict[str, str]) -> None:
    for key, value in go_env.items():
        monkeypatch.setenv(key, value)


def run(repo: Repo, *args: str, base: str = "main") -> tuple[int, dict[str, Any]]:
    out = repo.path.parent / "report.json"
    if out.exists():
        out.unlink()
    code = main(
        [
            "diff",
            "--repo",
            str(repo.path),
            "--base",
            base,
            "--format",
            "json",
            "--output",
            str(out),
            *args,
        ]
    )
    return code, json.loads(out.read_text()) if out.exists() else {}


def what(findings: list[dict[str, Any]]) -> list[tuple[str, int, str, str]]:
    return [(f["path"], f["line"], f["kind"], f["expression"]) for f in findings]


def branch(repo: Repo, files: dict[str, str | None], *, base: dict[str, str]) -> None:
    repo.commit({"go.mod": GO_MOD, **base}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit(files, "head")


def test_new_escape_on_added_line(repo: Repo) -> None:
    head = LIB.replace("\ts := 0\n", "\ts := 0\n\tp := &s\n\tsink = p\n")
    branch(repo, {"lib.go": head}, base={"lib.go": LIB})
    code, report = run(repo)
    assert code == 1
    assert what(report["new"]) == [("lib.go", 20, "moved", "s")]
    assert report["new"][0]["function"] == "Sum"
    # Reported at the unchanged declaration; the added line taking its address is the cause.
    assert report["new"][0]["anchor"] == 21
    assert report["new"][0]["source"] == "s := 0"
    assert report["fixed"] == [] and report["indirect"] == []
    assert report["merge_base"] == repo.git("rev-parse", "main")


def test_explain_mode_anchors_on_the_flow_and_keeps_sources(repo: Repo) -> None:
    head = LIB.replace("\ts := 0\n", "\ts := 0\n\tif len(xs) > 3 {\n\t\tsink = &s\n\t}\n")
    other = "package m\n\n// Other allocates.\nfunc Other() *int {\n\tn := 7\n\treturn &n\n}\n"
    branch(repo, {"lib.go": head}, base={"lib.go": LIB, "other.go": other})
    code, report = run(repo, "--explain")
    assert code == 1
    (new,) = report["new"]
    assert (new["line"], new["anchor"], new["source"]) == (20, 22, "s := 0")
    assert any("at lib.go:22:" in step for step in new["explanation"])  # repo-relative
    # Explanations are kept only where findings can be: in the changed files.
    kept = {f["path"]: "explanation" in f for f in report["unchanged"]}
    assert kept == {"lib.go": True, "other.go": False}


def test_line_shift_reports_nothing(repo: Repo) -> None:
    head = LIB.replace(
        "var sink *int\n", "var sink *int\n\n// Extra adds lines above.\nconst Extra = 1\n"
    )
    branch(repo, {"lib.go": head}, base={"lib.go": LIB})
    code, report = run(repo)
    assert (code, report["new"], report["fixed"], report["indirect"]) == (0, [], [], [])
    assert report["summary"]["unchanged"] == 2


def test_reformatting_an_escaping_line_is_not_new(repo: Repo) -> None:
    head = LIB.replace("\treturn &T{a: 1}\n", "\treturn &T{\n\t\ta: 1,\n\t}\n")
    branch(repo, {"lib.go": head}, base={"lib.go": LIB})
    code, report = run(repo)
    assert (code, report["new"], report["fixed"]) == (0, [], [])


def test_moving_a_function_within_a_file(repo: Repo) -> None:
    grab = LIB[LIB.index("// Grab") : LIB.index("// Make")]
    head = LIB.replace(grab, "") + "\n" + grab.rstrip("\n") + "\n"
    branch(repo, {"lib.go": head}, base={"lib.go": LIB})
    code, report = run(repo)
    assert (code, report["new"], report["fixed"]) == (0, [], [])


def test_moving_a_function_into_another_file(repo: Repo) -> None:
    grab = LIB[LIB.index("// Grab") : LIB.index("// Make")]
    branch(
        repo,
        {"lib.go": LIB.replace(grab, ""), "grab.go": "package m\n\n" + grab},
        base={"lib.go": LIB},
    )
    code, report = run(repo)
    assert (code, report["new"], report["fixed"]) == (0, [], [])


def test_renamed_file_with_edits(repo: Repo) -> None:
    repo.commit({"go.mod": GO_MOD, "lib.go": LIB}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.mv("lib.go", "core.go")
    repo.commit({"core.go": LIB.replace("// Sum does not allocate.", "// Sum adds.")}, "rename")
    code, report = run(repo)
    assert (code, report["new"], report["fixed"]) == (0, [], [])


def test_deleted_file_fixes_its_escapes(repo: Repo) -> None:
    branch(
        repo,
        {"lib.go": None, "other.go": "package m\n"},
        base={"lib.go": LIB, "other.go": "package m\n\nfunc X() {}\n"},
    )
    code, report = run(repo)
    assert code == 0
    assert sorted(what(report["fixed"])) == [
        ("lib.go", 9, "moved", "v"),
        ("lib.go", 15, "escape", "&T{...}"),
    ]


def test_second_identical_escape_in_the_same_function(repo: Repo) -> None:
    head = LIB.replace("\treturn &T{a: 1}\n", "\t_ = &T{a: 1}\n\treturn &T{a: 1}\n")
    head = head.replace("\t_ = &T{a: 1}\n", "\tkeep = &T{a: 1}\n") + "\nvar keep *T\n"
    branch(repo, {"lib.go": head}, base={"lib.go": LIB})
    code, report = run(repo)
    assert code == 1
    assert what(report["new"]) == [("lib.go", 15, "escape", "&T{...}")]
    assert report["summary"]["unchanged"] == 2


def test_fixed_escape(repo: Repo) -> None:
    head = LIB.replace("\tv := 1\n\tsink = &v\n", "\tv := 1\n\t_ = v\n")
    branch(repo, {"lib.go": head}, base={"lib.go": LIB})
    code, report = run(repo)
    assert code == 0
    assert what(report["fixed"]) == [("lib.go", 9, "moved", "v")]
    assert report["fixed"][0]["function"] == "Grab"


def test_indirect_escape_from_a_changed_callee(repo: Repo) -> None:
    base = {
        "keep/keep.go": "package keep\n\n// Use reads p.\nfunc Use(p *int) int {\n\treturn *p\n}\n",
        "app/app.go": 'package app\n\nimport "example.com/m/keep"\n\n// Run calls keep.Use.\n'
        "func Run() int {\n\tx := 4\n\treturn keep.Use(&x)\n}\n",
    }
    head = {
        "keep/keep.go": "package keep\n\nvar last *int\n\n// Use keeps p.\n"
        "func Use(p *int) int {\n\tlast = p\n\treturn *p\n}\n"
    }
    branch(repo, head, base=base)
    # app did not change, but keep's exports did: app is compiled too, by default.
    for args in ((), ("--all-packages",)):
        code, report = run(repo, *args)
        assert code == 0  # indirect escapes do not fail by default
        assert what(report["indirect"]) == [("app/app.go", 7, "moved", "x")]
        assert report["new"] == []
    code, _ = run(repo, "--fail-on", "indirect")
    assert code == 1


def test_indirect_escape_in_the_changed_package(repo: Repo) -> None:
    base = {
        "keep.go": "package m\n\n// Use reads p.\nfunc Use(p *int) int {\n\treturn *p\n}\n\n"
        "// Run calls Use.\nfunc Run() int {\n\tx := 4\n\treturn Use(&x)\n}\n"
    }
    changed = base["keep.go"].replace("\treturn *p\n", "\tlast = p\n\treturn *p\n")
    branch(repo, {"keep.go": changed + "\nvar last *int\n"}, base=base)
    code, report = run(repo)
    assert code == 0
    assert what(report["indirect"]) == [("keep.go", 11, "moved", "x")]


def test_build_tags(repo: Repo) -> None:
    tagged = (
        "//go:build extra\n\npackage m\n\nvar held *int\n\n// Hold keeps a pointer.\n"
        "func Hold() {\n\th := 2\n\theld = &h\n}\n"
    )
    branch(repo, {"extra.go": tagged}, base={"lib.go": LIB})
    code, report = run(repo)
    assert (code, report["new"]) == (0, [])  # without the tag the file is not compiled
    code, report = run(repo, "--tags", "extra")
    assert code == 1
    assert what(report["new"]) == [("extra.go", 9, "moved", "h")]


def test_two_modules(repo: Repo) -> None:
    sub_mod = "module example.com/tool\n\ngo 1.21\n"
    tool = (
        "package tool\n\nvar kept []*string\n\n// Keep stores s.\nfunc Keep(s string) {\n"
        "\tkept = append(kept, &s)\n}\n"
    )
    branch(
        repo,
        {"tool/tool.go": tool},
        base={"lib.go": LIB, "tool/go.mod": sub_mod, "tool/doc.go": "package tool\n"},
    )
    code, report = run(repo)
    assert code == 1
    assert sorted(what(report["new"])) == [
        ("tool/tool.go", 6, "moved", "s"),
        ("tool/tool.go", 7, "escape", "append"),
    ]


def test_explanations_in_a_module_whose_path_is_not_its_directory(repo: Repo) -> None:
    # The compiler prints example.org/service/x.go for svc/x.go: no common tail to match on.
    keep = (
        "package service\n\nvar kept *int\n\n// Keep keeps n.\nfunc Keep(n int) {\n\tkept = &n\n}\n"
    )
    branch(
        repo,
        {"svc/x.go": keep},
        base={
            "lib.go": LIB,
            "svc/go.mod": "module example.org/service\n\ngo 1.21\n",
            "svc/doc.go": "package service\n",
        },
    )
    code, report = run(repo, "--explain")
    assert code == 1
    (new,) = report["new"]
    assert (new["path"], new["line"], new["expression"]) == ("svc/x.go", 6, "n")
    assert any("svc/x.go:7:" in step for step in new["explanation"])


def test_a_revision_the_overlay_cannot_show_is_checked_out_and_said_so(repo: Repo) -> None:
    head = LIB.replace("\ts := 0\n", "\ts := 0\n\tp := &s\n\tsink = p\n")
    repo.commit({"go.mod": GO_MOD, "lib.go": LIB, "README": "r\n"}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    os.symlink("README", repo.path / "LINK")
    repo.commit({"lib.go": head}, "head")
    code, report = run(repo)
    assert code == 1
    assert what(report["new"]) == [("lib.go", 20, "moved", "s")]
    assert any(
        "base revision" in note and "worktree: LINK differs and is a symbolic link" in note
        for note in report["notes"]
    )
    assert repo.git("worktree", "list").count("\n") == 0


BROKEN = "package m\n\nfunc Broken() int {\n\treturn undefinedName\n}\n"


def test_head_that_does_not_build(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, {"broken.go": BROKEN}, base={"lib.go": LIB})
    code, _ = run(repo)
    err = capsys.readouterr().err
    assert code == 3
    assert "head revision" in err and "does not build" in err
    assert "undefined: undefinedName" in err
    assert "Traceback" not in err


def test_base_that_does_not_build(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, {"broken.go": None}, base={"lib.go": LIB, "broken.go": BROKEN})
    code, _ = run(repo)
    err = capsys.readouterr().err
    assert code == 3
    assert "base revision" in err and "undefined: undefinedName" in err


def test_no_go_changes_builds_nothing(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, {"README.md": "docs\n", "broken.go.txt": BROKEN}, base={"lib.go": LIB})
    code, report = run(repo)
    assert code == 0
    assert report["summary"]["new"] == 0
    assert report["go_version"] == ""  # the toolchain was never asked
    assert "nothing was built" in capsys.readouterr().err


def test_go_files_the_go_command_skips_are_named(repo: Repo) -> None:
    tool = "package main\n\nfunc main() {}\n"
    branch(repo, {"_tools/gen.go": tool, "testdata/t.go": tool}, base={"lib.go": LIB})
    code, report = run(repo)
    assert code == 0 and report["go_version"] == ""
    (note,) = report["notes"]
    assert note.startswith("nothing was built: go build compiles none of the changed .go files")
    assert "_tools/gen.go: ./... skips directories whose names start with . or _" in note
    assert "testdata/t.go: the go command ignores testdata directories" in note


def test_unknown_revision(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit({"go.mod": GO_MOD, "lib.go": LIB}, "base")
    code, _ = run(repo, base="no-such-branch")
    assert code == 4
    assert "unknown revision 'no-such-branch'" in capsys.readouterr().err


def test_unknown_head_revision_is_named_even_when_the_base_resolves(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit({"go.mod": GO_MOD, "lib.go": LIB}, "base")
    code, _ = run(repo, "--head", "no-such-head")
    assert code == 4
    assert "unknown revision 'no-such-head'" in capsys.readouterr().err


def test_revisions_resolve_to_commits_in_one_step(repo: Repo) -> None:
    first = repo.commit({"go.mod": GO_MOD, "lib.go": LIB}, "base")
    repo.git("tag", "-a", "v1", "-m", "annotated: rev-parse must peel it to the commit")
    second = repo.commit({"more.go": "package lib\n"}, "head")
    git = Git.discover(str(repo.path), env=repo.env)
    assert git.resolve_all("HEAD", "v1") == [second, first]
    assert git.resolve_all("v1", "HEAD~1") == [first, first]


def test_not_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", "--repo", str(tmp_path), "--base", "main"])
    assert code == 4
    assert "not inside a git repository" in capsys.readouterr().err


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", "--format", "xml", "--base", "main"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: escape-guard diff")
    assert "error: argument --format: invalid choice: 'xml'" in err


def test_working_tree_changes_are_the_head(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit({"go.mod": GO_MOD, "lib.go": LIB}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    before = repo.git("status", "--porcelain")
    repo.write({"lib.go": LIB.replace("\ts := 0\n", "\ts := 0\n\tsink = &s\n")})
    status = repo.git("status", "--porcelain")
    code, report = run(repo)
    assert code == 1
    assert what(report["new"]) == [("lib.go", 20, "moved", "s")]
    assert "working tree" in capsys.readouterr().err
    assert repo.git("status", "--porcelain") == status != before  # user's tree untouched
    assert repo.git("stash", "list") == ""
    assert repo.git("worktree", "list").count("\n") == 0  # temporary worktrees removed


def test_the_working_tree_has_a_stable_identity_and_a_findable_name(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit({"go.mod": GO_MOD, "lib.go": LIB}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    commit = repo.git("rev-parse", "HEAD")
    repo.write({"lib.go": LIB.replace("\ts := 0\n", "\ts := 0\n\tsink = &s\n")})
    _, first = run(repo)
    first_err = capsys.readouterr().err
    _, second = run(repo)
    assert first["head"] == second["head"]
    assert first["head"]["ref"] == "working tree" and first["head"]["on"] == commit
    assert first["head"]["sha"] != commit
    on_top = f"the working tree (uncommitted changes on top of {commit[:7]})"
    assert f"comparing {on_top} as the head" in first_err
    assert first["head"]["sha"][:7] not in first_err
    assert main(["diff", "--repo", str(repo.path), "--base", "main"]) == 1
    text = capsys.readouterr().out
    assert f"head the working tree (uncommitted changes on top of {commit[:12]})" in text
    assert first["head"]["sha"][:7] not in text


def test_untracked_only_changes_say_the_commit_was_compared(repo: Repo) -> None:
    repo.commit({"go.mod": GO_MOD, "lib.go": LIB}, "base")
    commit = repo.git("rev-parse", "HEAD")
    (repo.path / "extra.go").write_text("package m\n\nfunc Extra() *int { v := 1; return &v }\n")
    code, report = run(repo)
    assert code == 0
    assert report["head"] == {"ref": "HEAD", "sha": commit}
    assert report["notes"][0] == (
        "the working tree has no changes to tracked files, only 1 untracked .go file(s) "
        f"(e.g. extra.go), which are not compared: the head is the commit HEAD ({commit[:7]}); "
        "git add them to include them"
    )


def test_suppression_comment_and_config_accept(repo: Repo) -> None:
    head = LIB.replace("\ts := 0\n", "\ts := 0 //escape-guard:ignore measured, fine\n\tsink = &s\n")
    head += "\n// Box allocates.\nfunc Box(i int) *int {\n\treturn &i\n}\n"
    config = "accept:\n  - path: lib.go\n    function: Box\n    reason: boxes are rare\n"
    branch(repo, {"lib.go": head, ".escape-guard.yml": config}, base={"lib.go": LIB})
    code, report = run(repo)
    assert code == 0
    assert report["new"] == []
    reasons = sorted((f["expression"], f["reason"]) for f in report["accepted"])
    assert reasons == [("i", "boxes are rare"), ("s", "measured, fine")]


def test_spaced_directive_is_honoured_and_a_misspelled_one_named(repo: Repo) -> None:
    head = LIB.replace("\ts := 0\n", "\ts := 0 // escape-guard: ignore measured\n\tsink = &s\n")
    head = head.replace("\tv := 1\n", "\tv := 1 //escapeguard:ignore pooled\n")
    base = LIB.replace("\tsink = &v\n", "\t_ = v\n")
    branch(repo, {"lib.go": head}, base={"lib.go": base})
    code, report = run(repo)
    assert code == 1
    assert [(f["expression"], f["reason"]) for f in report["accepted"]] == [("s", "measured")]
    assert what(report["new"]) == [("lib.go", 9, "moved", "v")]
    assert (
        'lib.go:9: "//escapeguard:ignore" is not escape-guard\'s directive, so the escape there '
        "is not accepted: write //escape-guard:ignore"
    ) in report["notes"]


def test_config_errors_exit_2(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.commit({"go.mod": GO_MOD, "lib.go": LIB, ".escape-guard.yml": "pakages: []\n"}, "base")
    code, _ = run(repo)
    assert code == 2
    assert "unknown key 'pakages'" in capsys.readouterr().err


def test_bundled_example(tmp_path: Path, go_env: dict[str, str]) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "demo"
    repo = Repo(tmp_path / "demo", go_env)
    repo.commit(_tree(example / "base"), "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({**dict.fromkeys(_tree(example / "base")), **_tree(example / "head")}, "head")
    code, report = run(repo, "--all-packages")
    assert code == 1
    assert what(report["new"]) == [
        ("logfmt/record.go", 23, "moved", "r"),
        ("logfmt/record.go", 24, "escape", "append"),
    ]
    # Clone no longer returns a pointer: its copy and main's append stop allocating. The
    # copy's lines changed: fixed; main's did not: gone because of a change elsewhere.
    assert what(report["fixed"]) == [("logfmt/record.go", 24, "moved", "c")]
    assert what(report["indirect_fixed"]) == [("cmd/demo/main.go", 11, "escape", "append")]
    assert sorted(what(report["indirect"])) == [
        ("cmd/demo/main.go", 13, "moved", "logfmt.rec"),
        ("logfmt/sink.go", 14, "moved", "rec"),
    ]


def test_only_changed_packages_are_built(repo: Repo) -> None:
    files = {
        f"p{i}/p.go": f"package p{i}\n\n// F allocates.\nfunc F() *int {{\n\tv := {i}\n"
        "\treturn &v\n}\n"
        for i in range(3)
    }
    edited = files["p1/p.go"].replace("// F allocates.", "// F still allocates.")
    branch(repo, {"p1/p.go": edited}, base=files)
    code, report = run(repo)
    assert code == 0
    assert report["summary"]["unchanged"] == 1  # p0 and p2 were not compiled with -m
    code, report = run(repo, "--all-packages")
    assert report["summary"]["unchanged"] == 3


def test_readme_shows_what_the_bundled_example_posts(
    tmp_path: Path, go_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parent.parent
    example = root / "examples" / "demo"
    repo = Repo(tmp_path / "demo", go_env)
    repo.commit(_tree(example / "base"), "base")
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit({**dict.fromkeys(_tree(example / "base")), **_tree(example / "head")}, "head")
    args = ["--all-packages", "--explain", "--format", "markdown"]
    assert main(["diff", "--repo", str(repo.path), "--base", "main", *args]) == 1
    posted = capsys.readouterr().out
    readme = (root / "README.md").read_text(encoding="utf-8")
    sample = readme.split("celebrates nothing in its headline:\n\n", 1)[1].split("\n\n", 1)[0]
    shown = "\n".join(line.removeprefix(">").removeprefix(" ") for line in sample.splitlines())
    # Only the commits and the timings differ from run to run.
    variable = re.compile(r"^(Built with .*? · base |Timings: ).*$", re.MULTILINE)
    assert variable.sub(r"\1", shown + "\n") == variable.sub(r"\1", posted)


def _tree(root: Path) -> dict[str, str | None]:
    return {os.path.relpath(p, root): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_go_work_workspace(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOFLAGS", "")  # -mod=mod is refused in workspace mode
    base = {
        "go.work": "go 1.21\n\nuse (\n\t./api\n\t./lib\n)\n",
        "lib/go.mod": "module example.com/lib\n\ngo 1.21\n",
        "lib/lib.go": "package lib\n\n// Val returns n.\nfunc Val(n int) int {\n\treturn n\n}\n",
        "api/go.mod": "module example.com/api\n\ngo 1.21\n",
        "api/api.go": 'package api\n\nimport "example.com/lib"\n\n// Get calls lib.\n'
        "func Get() int {\n\treturn lib.Val(1)\n}\n",
    }
    repo.commit(base, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    changed = (
        base["api/api.go"] + "\nvar held *int\n\n// Hold keeps n.\nfunc Hold(n int) {\n"
        "\theld = &n\n}\n"
    )
    repo.commit({"api/api.go": changed}, "head")
    code, report = run(repo)
    assert code == 1
    assert what(report["new"]) == [("api/api.go", 13, "moved", "n")]


def test_interrupt_removes_worktrees(repo: Repo, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    branch(
        repo, {"lib.go": LIB.replace("\ts := 0\n", "\ts := 0\n\tsink = &s\n")}, base={"lib.go": LIB}
    )
    shim = tmp_path / "bin"
    shim.mkdir()
    started = tmp_path / "started"
    # A go that is slow to build, so the interrupt arrives mid-build.
    (shim / "go").write_text(
        f'#!/bin/sh\n[ "$1" = build ] && touch {started} && sleep 30\n'
        f'exec {Path(sys.executable).parent / "go"} "$@"\n'
    )
    (shim / "go").chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**repo.env, "PATH": f"{shim}:{repo.env['PATH']}", "TMPDIR": str(scratch)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "escape_guard", "diff", "--repo", str(repo.path), "--base", "main"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    start = time.monotonic()
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # only escape-guard: it must stop its go processes
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - start < 20  # it did not wait for the slow builds
    assert "interrupted" in err and "Traceback" not in err
    assert repo.git("worktree", "list").count("\n") == 0
    assert list(scratch.iterdir()) == []


def test_repo_subdirectory_uses_the_root_configuration(repo: Repo) -> None:
    config = "accept:\n  - path: sub/*.go\n    reason: known\n"
    sub = "package sub\n\nvar kept *int\n\n// Keep keeps n.\nfunc Keep(n int) {\n\tkept = &n\n}\n"
    branch(repo, {"sub/sub.go": sub}, base={"lib.go": LIB, ".escape-guard.yml": config})
    out = repo.path.parent / "sub.json"
    code = main(
        [
            "diff",
            "--repo",
            str(repo.path / "sub"),
            "--base",
            "main",
            "--format",
            "json",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    assert [f["reason"] for f in json.loads(out.read_text())["accepted"]] == ["known"]


INLINING = """package m

var out any

type Value struct{ name string }

// Name is small enough to inline.
func (v *Value) Name() string {
	return v.name
}

type Buf struct{ b []byte }

// NewBuf is small enough to inline.
func NewBuf() *Buf { return &Buf{b: make([]byte, 0, 8)} }

// Use converts the name to an interface: one allocation.
func Use(v *Value) {
	out = v.Name()
}

// Make keeps a new buffer.
func Make() *Buf {
	return NewBuf()
}
"""


def test_callees_no_longer_inlined_fix_nothing(repo: Repo) -> None:
    """``~r0`` at the base is ``(*Value).Name(v)`` at the head; NewBuf's records at its call
    site go while NewBuf still allocates. Neither is new, fixed or indirect."""
    head = INLINING.replace("func (v *Value) Name", "//go:noinline\nfunc (v *Value) Name")
    head = head.replace("func NewBuf", "//go:noinline\nfunc NewBuf")
    branch(repo, {"lib.go": head}, base={"lib.go": INLINING})
    code, report = run(repo)
    assert (code, report["new"], report["fixed"], report["indirect"]) == (0, [], [], [])
    assert ("lib.go", 21, "escape", "(*Value).Name(v)") in what(report["unchanged"])
    assert what(report["indirect_fixed"]) == [  # base lines
        ("lib.go", 24, "escape", "&Buf{...}"),
        ("lib.go", 24, "escape", "make([]byte, 0, 8)"),
    ]


ENCODER = """package m

type Encoder struct{ out []int }

// Encode writes xs.
func (e *Encoder) Encode(xs []int) {
	e.out = e.out[:0]
	for _, x := range xs {
		e.out = append(e.out, x)
		e.out = append(e.out, -x)
	}
}
"""


@pytest.mark.parametrize(
    "inlined",
    [
        True,
        False,
    ],
)
def test_new_function_header_above_unchanged_lines(repo: Repo, inlined: bool) -> None:
    """The loop's lines did not change; they are in another function now. When the new
    function is inlined, the compiler also reports its appends at the added call line:
    the allocations Encode always made."""
    head = ENCODER.replace(
        "\te.out = e.out[:0]\n",
        "\te.out = e.out[:0]\n\te.writeBlocks(xs)\n}\n\n"
        "// writeBlocks writes the blocks.\n"
        + ("" if inlined else "//go:noinline\n")
        + "func (e *Encoder) writeBlocks(xs []int) {\n",
    )
    branch(repo, {"lib.go": head}, base={"lib.go": ENCODER})
    code, report = run(repo)
    assert (code, report["new"], report["fixed"], report["indirect"]) == (0, [], [], [])
    assert report["indirect_fixed"] == []
    functions = [f["function"] for f in report["unchanged"]]
    assert functions.count("(*Encoder).writeBlocks") == 2
    assert set(functions) == ({"(*Encoder).Encode"} if inlined else set()) | {
        "(*Encoder).writeBlocks"
    }


SWAP = """package m

var keep *int

// Swap keeps one of two locals.
func Swap() int {
	x, y := 1, 2
	keep = &x
	return y
}
"""


def test_the_other_variable_of_a_kept_line_escapes_now(repo: Repo) -> None:
    """x stops escaping and y starts, by edits of their own function: a fixed and a new
    escape, both reported at the unchanged declaration line."""
    head = SWAP.replace("keep = &x", "keep = &y").replace("return y", "return x")
    branch(repo, {"lib.go": head}, base={"lib.go": SWAP})
    code, report = run(repo)
    assert code == 1
    assert what(report["new"]) == [("lib.go", 7, "moved", "y")]
    assert report["new"][0]["anchor"] == 8
    assert what(report["fixed"]) == [("lib.go", 7, "moved", "x")]
    assert report["indirect"] == [] and report["indirect_fixed"] == []


@pytest.mark.parametrize(
    "pattern", ["./nope/...", "./lib/missing", "example.com/m/nope", "example.com/other/..."]
)
def test_a_package_pattern_matching_nothing_is_a_usage_error(repo: Repo, pattern: str) -> None:
    branch(repo, {"lib/lib.go": LIB.replace("package m", "package lib")}, base={"main.go": LIB})
    code, report = run(repo, "--packages", f"./lib/...,{pattern}")
    assert code == 2
    assert pattern in report["error"] and "matches no Go package" in report["error"]
    code, _ = run(repo, "--packages", "./lib/...,example.com/m/lib")  # both select lib
    assert code == 1


def test_an_ignore_glob_hiding_every_changed_file_is_said(repo: Repo) -> None:
    gen = "package m\n\nvar genSink *int\n\n// GenGrab keeps.\n"
    gen += "func GenGrab() {\n\tv := 1\n\tgenSink = &v\n}\n"
    config = "ignore: ['**/*_gen.go']\n"
    branch(repo, {"m_gen.go": gen, ".escape-guard.yml": config}, base={"lib.go": LIB})
    code, report = run(repo)
    assert (code, report["new"], len(report["ignored"])) == (0, [], 1)
    assert any(
        "every changed Go file matches an ignore pattern" in n and "`**/*_gen.go`" in n
        for n in report["notes"]
    )


def test_a_working_tree_that_does_not_build_is_named_as_such(repo: Repo) -> None:
    branch(repo, {"lib.go": LIB + "\n// Two.\nfunc Two() {}\n"}, base={"lib.go": LIB})
    on = repo.git("rev-parse", "HEAD")
    repo.write({"lib.go": LIB + "\nfunc Broken() { undefined() }\n"})  # not committed
    code, report = run(repo)
    assert code == 3
    assert (
        f"the head revision, the working tree (uncommitted changes on top of {on[:7]})"
        in (report["error"])
    )
