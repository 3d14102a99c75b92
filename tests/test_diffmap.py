from __future__ import annotations

import os
import random
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from escape_guard.diffmap import (
    FileChange,
    LineMap,
    go_files_changed,
    nothing_built_note,
    parse_diff,
)
from escape_guard.errors import GitError

_GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=_GIT_ENV, check=True, capture_output=True
    )
    return done.stdout.decode("utf-8", "surrogateescape")


def git_diff(
    tmp_path: Path,
    base: Mapping[str, str | bytes],
    head: Mapping[str, str | bytes],
    *,
    context: int = 0,
    options: Sequence[str] = ("--src-prefix=a/", "--dst-prefix=b/"),
    config: Sequence[str] = (),
) -> str:
    """Commit ``base`` then ``head`` (each the whole tree) and return git's diff."""
    repo = Path(tempfile.mkdtemp(dir=tmp_path))
    _git(repo, "init", "--quiet")
    for tree in (base, head):
        _git(repo, "rm", "-rq", "--ignore-unmatch", ".")
        for name, content in tree.items():
            path = repo / name
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            path.write_bytes(data)
        _git(repo, "add", "-A")
        _git(repo, "commit", "--quiet", "--allow-empty", "-m", "tree")
    flags = [arg for c in config for arg in ("-c", c)]
    diff = ["diff", "--find-renames", "--no-color", f"-U{context}", *options]
    return _git(repo, *flags, *diff, "HEAD~", "HEAD")


def numbered(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


TEN = numbered(*(f"line {n}" for n in range(1, 11)))


def unchanged_map(linemap: LineMap, path: str, length: int) -> dict[int, int | None]:
    return {n: linemap.old_line(path, n) for n in range(1, length + 1)}


@pytest.mark.parametrize("context", [0, 3])
def test_lines_inserted_above_shift_later_lines(tmp_path: Path, context: int) -> None:
    head = TEN.replace("line 3\n", "line 3\nnew a\nnew b\n")
    linemap = parse_diff(git_diff(tmp_path, {"a.go": TEN}, {"a.go": head}, context=context))

    assert linemap.added_lines("a.go") == {4, 5}
    assert unchanged_map(linemap, "a.go", 12) == {
        **{n: n for n in range(1, 4)},
        4: None,
        5: None,
        **{n: n - 2 for n in range(6, 13)},
    }
    assert linemap.is_added("a.go", 4)
    assert not linemap.is_added("a.go", 6)
    assert linemap.changed_paths == {"a.go"}
    assert linemap.old_path("a.go") == "a.go"


@pytest.mark.parametrize(("context", "hunk"), [(0, {4, 5}), (3, {1, 2, 3, 4, 5, 6, 7, 8})])
def test_hunk_lines_include_context_lines(tmp_path: Path, context: int, hunk: set[int]) -> None:
    head = TEN.replace("line 3\n", "line 3\nnew a\nnew b\n")
    linemap = parse_diff(git_diff(tmp_path, {"a.go": TEN}, {"a.go": head}, context=context))

    assert linemap.hunk_lines("a.go") == hunk
    assert linemap.hunk_lines("elsewhere.go") == frozenset()


@pytest.mark.parametrize("context", [0, 3])
def test_deleted_and_edited_lines(tmp_path: Path, context: int) -> None:
    head = TEN.replace("line 2\nline 3\n", "").replace("line 7\n", "line seven\n")
    linemap = parse_diff(git_diff(tmp_path, {"a.go": TEN}, {"a.go": head}, context=context))

    # head: 1, 4, 5, 6, seven, 8, 9, 10
    assert linemap.added_lines("a.go") == {5}
    assert unchanged_map(linemap, "a.go", 8) == {1: 1, 2: 4, 3: 5, 4: 6, 5: None, 6: 8, 7: 9, 8: 10}


def test_deletion_at_the_start_and_insertion_at_the_end(tmp_path: Path) -> None:
    head = TEN.replace("line 1\n", "") + "line 11\n"
    linemap = parse_diff(git_diff(tmp_path, {"a.go": TEN}, {"a.go": head}))

    assert linemap.added_lines("a.go") == {10}
    assert unchanged_map(linemap, "a.go", 10) == {**{n: n + 1 for n in range(1, 10)}, 10: None}


@pytest.mark.parametrize("context", [0, 1, 3])
@pytest.mark.parametrize("seed", range(6))
def test_old_line_agrees_with_the_file_contents(tmp_path: Path, seed: int, context: int) -> None:
    """Random edits: every unchanged head line must map to an identical base line, in
    order, and exactly the lines git did not add must map."""
    rng = random.Random(seed)
    base = [f"base {n}" for n in range(60)]
    head = list(base)
    for step in range(12):
        at = rng.randrange(len(head) + 1)
        match rng.choice(["insert", "delete", "edit"]):
            case "insert":
                head[at:at] = [f"new {step} {k}" for k in range(rng.randint(1, 4))]
            case "delete":
                del head[at : at + rng.randint(1, 4)]
            case _:
                head[at : at + 1] = [f"edit {step}"]
    linemap = parse_diff(
        git_diff(tmp_path, {"f.go": numbered(*base)}, {"f.go": numbered(*head)}, context=context)
    )

    mapped = {n: linemap.old_line("f.go", n) for n in range(1, len(head) + 1)}
    kept = [(n, old) for n, old in mapped.items() if old is not None]
    assert all(head[n - 1] == base[old - 1] for n, old in kept)
    assert [old for _, old in kept] == sorted({old for _, old in kept})
    assert {n for n, old in mapped.items() if old is None} == linemap.added_lines("f.go")
    assert linemap.hunk_lines("f.go") >= linemap.added_lines("f.go")
    # new_line is old_line's inverse: defined exactly on the base lines the head keeps.
    back = {old: linemap.new_line("f.go", old) for old in range(1, len(base) + 1)}
    assert {old: n for old, n in back.items() if n is not None} == {old: n for n, old in kept}


@pytest.mark.parametrize("context", [0, 3])
def test_rename_without_edits_has_no_hunks(tmp_path: Path, context: int) -> None:
    diff = git_diff(tmp_path, {"old.go": TEN}, {"pkg/new.go": TEN}, context=context)
    assert "similarity index 100%" in diff
    linemap = parse_diff(diff)

    assert linemap.old_path("pkg/new.go") == "old.go"
    assert linemap.new_path("old.go") == "pkg/new.go"
    assert linemap.renamed == {"old.go": "pkg/new.go"}
    assert linemap.added_lines("pkg/new.go") == frozenset()
    assert linemap.hunk_lines("pkg/new.go") == frozenset()
    assert unchanged_map(linemap, "pkg/new.go", 10) == {n: n for n in range(1, 11)}
    assert linemap.changed_paths == {"pkg/new.go"}
    assert linemap.deleted_paths == frozenset()
    # The old name is not a head path, the new one not a base path.
    assert linemap.old_path("old.go") is None
    assert linemap.new_path("pkg/new.go") is None
    assert linemap.old_line("old.go", 1) is None


@pytest.mark.parametrize("context", [0, 3])
def test_rename_with_edits(tmp_path: Path, context: int) -> None:
    head = "// header\n" + TEN.replace("line 9\n", "line nine\n")
    linemap = parse_diff(git_diff(tmp_path, {"a.go": TEN}, {"b.go": head}, context=context))

    assert linemap.renamed == {"a.go": "b.go"}
    assert linemap.added_lines("b.go") == {1, 10}
    assert unchanged_map(linemap, "b.go", 11) == {
        1: None,
        **{n: n - 1 for n in range(2, 10)},
        10: None,
        11: 10,
    }


def test_deleted_file(tmp_path: Path) -> None:
    linemap = parse_diff(git_diff(tmp_path, {"a.go": TEN, "gone.go": TEN}, {"a.go": TEN}))

    assert linemap.deleted_paths == {"gone.go"}
    assert linemap.new_path("gone.go") is None
    assert linemap.old_path("gone.go") is None
    assert linemap.old_line("gone.go", 3) is None
    assert linemap.changed_paths == frozenset()
    assert linemap.renamed == {}


@pytest.mark.parametrize("context", [0, 3])
def test_added_file(tmp_path: Path, context: int) -> None:
    linemap = parse_diff(git_diff(tmp_path, {"a.go": TEN}, {"a.go": TEN, "b.go": TEN}))

    assert linemap.old_path("b.go") is None
    assert linemap.new_path("b.go") is None
    assert linemap.added_lines("b.go") == frozenset(range(1, 11))
    assert linemap.hunk_lines("b.go") == frozenset(range(1, 11))
    assert unchanged_map(linemap, "b.go", 11) == dict.fromkeys(range(1, 12))
    assert linemap.changed_paths == {"b.go"}


def test_empty_added_file(tmp_path: Path) -> None:
    linemap = parse_diff(git_diff(tmp_path, {"a.go": TEN}, {"a.go": TEN, "empty.go": ""}))

    assert linemap.changed_paths == {"empty.go"}
    assert linemap.old_path("empty.go") is None
    assert linemap.added_lines("empty.go") == frozenset()


def test_binary_files(tmp_path: Path) -> None:
    diff = git_diff(
        tmp_path,
        {"img.bin": b"\x00\x01\x02", "a.go": TEN},
        {"img.bin": b"\x00\x01\x03", "new.bin": b"\x00\xff", "a.go": TEN + "more\n"},
    )
    assert "Binary files a/img.bin and b/img.bin differ" in diff
    linemap = parse_diff(diff)

    changes = {c.new_path: c for c in linemap.files}
    assert changes["img.bin"].binary
    assert changes["img.bin"].old_path == "img.bin"
    assert changes["new.bin"].binary
    assert changes["new.bin"].old_path is None
    assert linemap.added_lines("img.bin") == frozenset()
    assert linemap.added_lines("a.go") == {11}


@pytest.mark.parametrize(
    ("base_name", "head_name"),
    [
        ("my file.go", "my file.go"),
        ("dir with space/a b.go", "dir with space/a b.go"),
        ("x b/y.go", "x b/y.go"),  # " b/" inside the name
        ("old name.go", "new name.go"),
        ("x b/y.go", "z b/w.go"),
        ("plain.go", "with space.go"),
    ],
)
@pytest.mark.parametrize("edited", [False, True])
def test_paths_with_spaces(tmp_path: Path, base_name: str, head_name: str, edited: bool) -> None:
    head = TEN + "extra\n" if edited else TEN
    linemap = parse_diff(git_diff(tmp_path, {base_name: TEN}, {head_name: head}))

    assert linemap.changed_paths == ({head_name} if edited or base_name != head_name else set())
    assert linemap.old_path(head_name) == base_name
    assert linemap.added_lines(head_name) == ({11} if edited else frozenset())


@pytest.mark.parametrize(
    ("base", "head", "paths"),
    [
        # No hunk and no ---/+++ lines: only the "diff --git" header names the file.
        ({}, {"x b/empty.go": ""}, (None, "x b/empty.go")),
        ({"x b/empty.go": ""}, {}, ("x b/empty.go", None)),
        ({"x b/i.bin": b"\x00\x01"}, {"x b/i.bin": b"\x00\x02"}, ("x b/i.bin", "x b/i.bin")),
        ({}, {"x b/i.bin": b"\x00"}, (None, "x b/i.bin")),
        ({}, {"caf\u00e9 b/\u00e9.bin": b"\x00"}, (None, "caf\u00e9 b/\u00e9.bin")),
    ],
)
def test_hunkless_entries_take_their_path_from_the_header(
    tmp_path: Path,
    base: dict[str, str | bytes],
    head: dict[str, str | bytes],
    paths: tuple[str | None, str | None],
) -> None:
    keep = {"keep.go": TEN}
    linemap = parse_diff(git_diff(tmp_path, {**keep, **base}, {**keep, **head}))

    assert [(c.old_path, c.new_path) for c in linemap.files] == [paths]


@pytest.mark.parametrize("quote_path", ["true", "false"])
@pytest.mark.parametrize(
    "name",
    ["café.go", "日本/語.go", 'we"ird.go', "back\\slash.go", "tab\tname.go", "ünï cödé/ä b.go"],
)
def test_quoted_and_non_ascii_paths(tmp_path: Path, name: str, quote_path: str) -> None:
    config = [f"core.quotePath={quote_path}"]
    edited = TEN.replace("line 5\n", "line five\n")
    diff = git_diff(
        tmp_path, {name: TEN, "r.go": TEN}, {name: edited, f"{name}.moved": TEN}, config=config
    )
    linemap = parse_diff(diff)

    assert linemap.added_lines(name) == {5}
    assert linemap.old_line(name, 6) == 6
    assert linemap.renamed == {"r.go": f"{name}.moved"}


def test_quoted_paths_are_really_quoted_by_git(tmp_path: Path) -> None:
    diff = git_diff(tmp_path, {"café.go": TEN}, {"café.go": TEN + "x\n"})
    assert '"a/caf\\303\\251.go"' in diff
    assert parse_diff(diff).changed_paths == {"café.go"}


@pytest.mark.parametrize("context", [0, 3])
@pytest.mark.parametrize(
    ("base", "head", "added"),
    [
        ("a\nb", "a\nb\nc", {2, 3}),  # the last line gains its newline
        ("a\nb\n", "a\nb\nc", {3}),
        ("a\nb", "a\nB", {2}),
        ("a\nb", "z\na\nb", {1}),
    ],
)
def test_no_newline_at_end_of_file(
    tmp_path: Path, context: int, base: str, head: str, added: set[int]
) -> None:
    diff = git_diff(tmp_path, {"a.go": base}, {"a.go": head}, context=context)
    assert "\\ No newline at end of file" in diff or (context, added) == (0, {1})
    linemap = parse_diff(diff)

    assert linemap.added_lines("a.go") == added
    head_lines = head.split("\n")
    base_lines = base.split("\n")
    for n in range(1, len(head_lines) + 1):
        old = linemap.old_line("a.go", n)
        assert (old is None) == (n in added)
        assert old is None or base_lines[old - 1] == head_lines[n - 1]


def test_only_newline_splits_lines(tmp_path: Path) -> None:
    # "\r", "\f" and U+2028 are line breaks to str.splitlines but not to git.
    base = "a\r\nb\fc\r\nd\u2028e\r\n"
    head = "a\r\nb\fc\r\nnew\r\nd\u2028e\r\n"
    linemap = parse_diff(git_diff(tmp_path, {"a.go": base}, {"a.go": head}, context=3))

    assert linemap.added_lines("a.go") == {3}
    assert linemap.old_line("a.go", 4) == 3


def test_mode_change_only(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet")
    (repo / "run.sh").write_text("x\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "base")
    _git(repo, "update-index", "--chmod=+x", "run.sh")
    _git(repo, "commit", "--quiet", "-m", "head")
    diff = _git(
        repo, "diff", "--find-renames", "--src-prefix=a/", "--dst-prefix=b/", "HEAD~", "HEAD"
    )
    assert "new mode 100755" in diff
    linemap = parse_diff(diff)

    assert linemap.changed_paths == {"run.sh"}
    assert linemap.old_path("run.sh") == "run.sh"
    assert linemap.added_lines("run.sh") == frozenset()
    assert linemap.renamed == {}


@pytest.mark.parametrize("text", ["", "\n"])
def test_empty_diff(text: str) -> None:
    linemap = parse_diff(text)

    assert linemap == LineMap()
    assert linemap.files == ()
    assert linemap.changed_paths == frozenset()
    assert linemap.deleted_paths == frozenset()
    assert linemap.renamed == {}
    assert linemap.old_line("any.go", 7) == 7
    assert linemap.old_path("any.go") == "any.go"
    assert linemap.new_path("any.go") == "any.go"
    assert not go_files_changed(linemap)


def test_files_outside_the_diff_are_unchanged(tmp_path: Path) -> None:
    linemap = parse_diff(
        git_diff(tmp_path, {"a.go": TEN, "b.go": TEN}, {"a.go": "x\n" + TEN, "b.go": TEN})
    )

    assert linemap.old_line("b.go", 4) == 4
    assert linemap.old_path("b.go") == "b.go"
    assert linemap.new_path("b.go") == "b.go"
    assert linemap.added_lines("b.go") == frozenset()
    assert not linemap.is_added("b.go", 1)


def test_many_files_in_one_diff(tmp_path: Path) -> None:
    base = {"keep.go": TEN, "edit.go": TEN, "gone.go": TEN, "from.go": TEN}
    head = {"keep.go": TEN, "edit.go": TEN + "x\n", "to.go": TEN, "fresh.go": "p\n"}
    linemap = parse_diff(git_diff(tmp_path, base, head))

    assert linemap.changed_paths == {"edit.go", "to.go", "fresh.go"}
    assert linemap.deleted_paths == {"gone.go"}
    assert linemap.renamed == {"from.go": "to.go"}
    assert linemap.added_lines("edit.go") == {11}
    assert linemap.added_lines("fresh.go") == {1}


def test_linemap_is_immutable_and_comparable(tmp_path: Path) -> None:
    diff = git_diff(tmp_path, {"a.go": TEN}, {"a.go": "x\n" + TEN})
    linemap = parse_diff(diff)

    assert linemap == parse_diff(diff)
    assert hash(linemap) == hash(parse_diff(diff))
    with pytest.raises(AttributeError):
        linemap.files = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        linemap.renamed["x"] = "y"  # type: ignore[index]


def test_diff_without_prefixes_is_refused(tmp_path: Path) -> None:
    diff = git_diff(tmp_path, {"a.go": TEN}, {"a.go": "x\n" + TEN}, options=["--no-prefix"])
    with pytest.raises(GitError, match="--src-prefix=a/"):
        parse_diff(diff)


def test_copies_are_refused(tmp_path: Path) -> None:
    diff = git_diff(
        tmp_path,
        {"a.go": TEN},
        {"a.go": TEN, "b.go": TEN},
        options=["--find-copies-harder", "--src-prefix=a/", "--dst-prefix=b/"],
    )
    assert "copy from a.go" in diff
    with pytest.raises(GitError, match="copied file"):
        parse_diff(diff)


def test_truncated_hunk_is_an_error() -> None:
    diff = "diff --git a/a.go b/a.go\n--- a/a.go\n+++ b/a.go\n@@ -1,3 +1,3 @@\n a\n-b\n"
    with pytest.raises(GitError, match=r"a\.go"):
        parse_diff(diff)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ([("main.go", "main.go")], True),
        ([(None, "new.go")], True),
        ([("old.go", None)], True),
        ([("notes.txt", "main.go")], True),  # renamed into a Go file
        ([("README.md", "README.md"), ("img.png", None)], False),
        ([("pkg/x_test.go", "pkg/x_test.go")], False),
        ([("pkg/testdata/x.go", "pkg/testdata/x.go")], False),
        ([("_tools/gen.go", "_tools/gen.go"), (".github/x.go", None)], False),
        ([("pkg/_skip.go", "pkg/_skip.go")], False),
        ([("go.mod", "go.mod")], True),
        ([("sub/go.work", "sub/go.work")], True),
        ([("go.sum", "go.sum")], True),
        ([("cmd/app/default.pgo", "cmd/app/default.pgo")], True),
        ([("vendor/modules.txt", "vendor/modules.txt")], True),
        ([("docs/modules.txt", "docs/modules.txt")], False),
        ([], False),
    ],
)
def test_go_files_changed(paths: list[tuple[str | None, str | None]], expected: bool) -> None:
    linemap = LineMap(tuple(FileChange(old, new) for old, new in paths))
    assert go_files_changed(linemap) is expected


def test_go_files_changed_from_a_real_diff(tmp_path: Path) -> None:
    docs = git_diff(tmp_path, {"README.md": "a\n", "a.go": TEN}, {"README.md": "b\n", "a.go": TEN})
    code = git_diff(tmp_path, {"a.go": TEN}, {"a.go": TEN + "x\n"})

    assert not go_files_changed(parse_diff(docs))
    assert go_files_changed(parse_diff(code))


@pytest.mark.parametrize(
    ("paths", "note"),
    [
        (["README.md"], "no Go files, module files or PGO profiles changed: nothing was built"),
        (
            ["_tools/gen.go"],
            "nothing was built: go build compiles none of the changed .go files (_tools/gen.go: "
            "./... skips directories whose names start with . or _, like _tools/)",
        ),
        (
            ["a/testdata/x.go", ".hidden/h.go", "a/_old.go", "a/a_test.go"],
            "nothing was built: go build compiles none of the changed .go files ("
            ".hidden/h.go: ./... skips directories whose names start with . or _, like .hidden/; "
            "a/_old.go: the go command ignores files whose names start with . or _; "
            "a/a_test.go: a test file: go build does not compile tests; "
            "a/testdata/x.go: the go command ignores testdata directories)",
        ),
        (
            [f"testdata/{n}.go" for n in range(7)],
            "nothing was built: go build compiles none of the changed .go files ("
            + "; ".join(
                f"testdata/{n}.go: the go command ignores testdata directories" for n in range(5)
            )
            + "; and 2 more)",
        ),
    ],
)
def test_nothing_built_says_what_was_skipped_and_why(paths: list[str], note: str) -> None:
    linemap = LineMap(tuple(FileChange(p, p, added=frozenset({1})) for p in paths))
    assert not go_files_changed(linemap)
    assert nothing_built_note(linemap) == note


def test_new_line_follows_renames_and_knows_deleted_files() -> None:
    linemap = LineMap(
        (
            FileChange("old.go", "new.go", added=frozenset({2}), anchors=((1, 1), (3, 2))),
            FileChange("gone.go", None),
            FileChange(None, "born.go", added=frozenset({1})),
        )
    )
    # new.go: line 2 was inserted, so base lines 2.. moved down by one.
    assert [linemap.new_line("old.go", n) for n in (1, 2, 3)] == [1, 3, 4]
    assert linemap.new_line("gone.go", 1) is None
    assert linemap.new_line("untouched.go", 7) == 7
    assert linemap.new_line("born.go", 1) is None  # no base file of that name
