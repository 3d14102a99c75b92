"""Revisions seen in place through the go command's -overlay, or checked out when they must be."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from escape_guard.builds.analysis import analyze
from escape_guard.builds.checkout import Tree, WorkingTree, checkout, overlay_tree
from escape_guard.builds.compile import BuildSpec
from escape_guard.builds.modules import Module, find_modules
from escape_guard.git import Git
from tests.conftest import Repo

GO_MOD = "module example.com/m\n\ngo 1.21\n"
KEEP = "package m\n\nvar sink *int\n\n// Keep keeps n.\nfunc Keep(n int) {\n\tsink = &n\n}\n"
MAKE = "package m\n\n// Make allocates.\nfunc Make() *[4]int {\n\treturn new([4]int)\n}\n"
SUB = "package sub\n\n// Box allocates.\nfunc Box(v int) any {\n\treturn v\n}\n"


@pytest.fixture
def two_revisions(repo: Repo) -> tuple[Repo, str]:
    """main: keep.go, make.go, sub/; the working tree: feature, which edits, adds and deletes."""
    base = repo.commit({"go.mod": GO_MOD, "keep.go": KEEP, "make.go": MAKE, "sub/sub.go": SUB})
    repo.git("switch", "--quiet", "-c", "feature")
    repo.commit(
        {
            "keep.go": KEEP.replace("sink = &n", "sink = &n\n\tsink = nil"),
            "make.go": None,
            "extra.go": "package m\n\n// Extra is new.\nfunc Extra() {}\n",
            "sub/more/more.go": "package more\n",
        }
    )
    return repo, base


def test_the_working_tree_is_shown_as_the_revision(two_revisions: tuple[Repo, str]) -> None:
    repo, base = two_revisions
    (repo.path / "untracked.go").write_text("package m\n\nthis does not compile\n")
    git = Git.discover(str(repo.path), env=repo.env)
    scratch = repo.path.parent / "scratch"
    scratch.mkdir()
    tree = overlay_tree(WorkingTree.inspect(git), base, str(scratch))
    assert isinstance(tree, Tree) and tree.how == "in place"
    assert tree.root == os.path.realpath(repo.path)
    # The revision's files, whatever the working tree holds.
    assert tree.names("") == ["go.mod", "keep.go", "make.go"]
    assert Path(tree.file("keep.go") or "").read_text() == KEEP
    assert Path(tree.file("make.go") or "").read_text() == MAKE
    assert tree.file("extra.go") is None and tree.file("untracked.go") is None
    assert tree.file("go.mod") == str(repo.path / "go.mod")  # unchanged: read in place
    assert tree.names("sub/more") == []
    # The go command's overlay says the same, with absolute paths.
    assert tree.overlay is not None
    replace = json.loads(Path(tree.overlay).read_text())["Replace"]
    root = tree.root
    assert replace[f"{root}/extra.go"] == "" and replace[f"{root}/untracked.go"] == ""
    assert Path(replace[f"{root}/make.go"]).read_text() == MAKE
    assert f"{root}/go.mod" not in replace


def test_a_revision_equal_to_the_working_tree_needs_no_overlay(repo: Repo) -> None:
    sha = repo.commit({"go.mod": GO_MOD, "keep.go": KEEP})
    scratch = repo.path.parent / "scratch"
    scratch.mkdir()
    tree = overlay_tree(
        WorkingTree.inspect(Git.discover(str(repo.path), env=repo.env)), sha, str(scratch)
    )
    assert tree == Tree(os.path.realpath(repo.path), how="in place", go_mods=("go.mod",))


def test_in_place_and_checked_out_builds_agree(
    two_revisions: tuple[Repo, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, base = two_revisions
    for key, value in repo.env.items():
        monkeypatch.setenv(key, value)
    git = Git.discover(str(repo.path), env=repo.env)
    spec = BuildSpec(env=repo.env)
    found = {}
    for in_place in (True, False):
        work = WorkingTree.inspect(git) if in_place else WorkingTree(git, usable=False)
        with checkout(work, base, label="base") as tree:
            assert tree.how == ("in place" if in_place else "worktree")
            records = analyze(tree, spec, label="base").records
            found[in_place] = sorted((r.path, r.line, r.message, r.function) for r in records)
    assert found[True] == found[False]
    assert ("make.go", 5, "new([4]int) escapes to heap", "Make") in found[True]
    assert ("keep.go", 6, "moved to heap: n", "Keep") in found[True]


def test_nothing_is_left_behind(
    two_revisions: tuple[Repo, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, base = two_revisions
    (repo.path / "keep.go").write_text(KEEP + "\n// an uncommitted edit\n")
    status = repo.git("status", "--porcelain", "--untracked-files=all")
    git = Git.discover(str(repo.path), env=repo.env)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with checkout(WorkingTree.inspect(git), base, label="base") as tree:
        assert tree.overlay is not None and tree.overlay.startswith(str(scratch))
        assert Path(tree.file("keep.go") or "").read_text() == KEEP
    assert list(scratch.iterdir()) == []
    assert repo.git("status", "--porcelain", "--untracked-files=all") == status
    assert repo.git("stash", "list") == ""


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (
            {"asm_amd64.s": "TEXT ·f(SB),0,$0\n\tRET\n"},
            "asm_amd64.s differs, and -overlay does not reach .s files",
        ),
        ({"cgo.h": "int x;\n"}, "cgo.h differs, and -overlay does not reach .h files"),
    ],
)
def test_foreign_sources_are_checked_out(repo: Repo, change: dict[str, str], why: str) -> None:
    base = repo.commit({"go.mod": GO_MOD, "keep.go": KEEP})
    repo.commit(change)
    git = Git.discover(str(repo.path), env=repo.env)
    assert overlay_tree(WorkingTree.inspect(git), base, str(repo.path.parent)) == why
    with checkout(WorkingTree.inspect(git), base, label="base") as tree:
        assert tree.how == "worktree" and tree.overlay is None and tree.why == why
        assert [n for n in tree.names("") if n != ".git"] == ["go.mod", "keep.go"]


def test_modules_are_the_go_mod_files_git_tracks(repo: Repo) -> None:
    tools = "module example.com/tools\n\ngo 1.21\n"
    built = "module example.com/generated\n\ngo 1.21\n"
    sha = repo.commit(
        {"go.mod": GO_MOD, "keep.go": KEEP, "tools/go.mod": tools, ".gitignore": "/out/\n"}
    )
    (repo.path / "out").mkdir()
    (repo.path / "out" / "go.mod").write_text(built)  # ignored: no module of the repository
    git = Git.discover(str(repo.path), env=repo.env)
    scratch = repo.path.parent / "scratch"
    scratch.mkdir()
    tree = overlay_tree(WorkingTree.inspect(git), sha, str(scratch))
    assert isinstance(tree, Tree) and tree.go_mods == ("go.mod", "tools/go.mod")
    found = [Module("example.com/m", ""), Module("example.com/tools", "tools")]
    assert find_modules(tree) == found
    # Walking the same directory (as for a checked-out tree, which holds no ignored files)
    # would have taken the ignored one for a module of the repository.
    walked = find_modules(Tree(str(repo.path)))
    assert Module("example.com/generated", "out") in walked


def test_a_name_that_is_not_utf8_is_checked_out(repo: Repo) -> None:
    base = repo.commit({"go.mod": GO_MOD, "keep.go": KEEP})
    with open(os.path.join(os.fsencode(repo.path), b"odd\xff.go"), "wb") as fh:
        fh.write(b"package m\n")
    repo.commit()
    git = Git.discover(str(repo.path), env=repo.env)
    why = overlay_tree(WorkingTree.inspect(git), base, str(repo.path.parent))
    assert why == "odd\ufffd.go differs and its name is not UTF-8"


def test_symbolic_links_and_sparse_checkouts_are_checked_out(repo: Repo) -> None:
    base = repo.commit({"go.mod": GO_MOD, "keep.go": KEEP})
    os.symlink("keep.go", repo.path / "alias.go")
    head = repo.commit()
    git = Git.discover(str(repo.path), env=repo.env)
    link = overlay_tree(WorkingTree.inspect(git), base, str(repo.path.parent))
    assert link == "alias.go differs and is a symbolic link"
    assert isinstance(overlay_tree(WorkingTree.inspect(git), head, str(repo.path.parent)), Tree)
    repo.git("config", "core.sparseCheckout", "true")  # tracked files may be missing
    assert not WorkingTree.inspect(git).usable
    with checkout(WorkingTree.inspect(git), head, label="head") as tree:
        assert (tree.how, tree.why) == ("worktree", "the working tree is a sparse checkout")


def test_modules_the_revision_adds_or_removes(repo: Repo) -> None:
    base = repo.commit(
        {"go.mod": GO_MOD, "keep.go": KEEP, "old/go.mod": "module example.com/old\n"}
    )
    repo.commit({"old/go.mod": None, "new/go.mod": "module example.com/new\n", "new/a.go": SUB})
    git = Git.discover(str(repo.path), env=repo.env)
    scratch = repo.path.parent / "scratch"
    scratch.mkdir()
    tree = overlay_tree(WorkingTree.inspect(git), base, str(scratch))
    assert isinstance(tree, Tree)
    assert [(m.path, m.dir) for m in find_modules(tree)] == [
        ("example.com/m", ""),
        ("example.com/old", "old"),
    ]
    assert tree.isdir("old") and tree.names("new") == []
