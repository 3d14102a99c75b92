"""Which head lines a change added, and where every other head line was in the base.

``parse_diff`` reads the text of ``git diff --find-renames --no-color`` (any ``-U``
context) between the merge base and the head. unidiff parses the hunks; git's extended
header lines (renames, added and deleted files, binary files, C-quoted paths) are read
here, because a hunkless entry (a pure rename, a binary file) only describes itself there.

The diff must use git's default ``a/`` and ``b/`` prefixes: run git with
``--src-prefix=a/ --dst-prefix=b/`` so that ``diff.noprefix`` or ``diff.mnemonicPrefix``
in a user's configuration cannot change them.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType

from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk, PatchSet

from escape_guard.errors import GitError

_GIT_HEADER = "diff --git "
_BUILD_FILES = frozenset({"go.mod", "go.sum", "go.work", "go.work.sum", "default.pgo"})
_DEV_NULL = "/dev/null"
_OLD_PREFIXES = ("a/", "c/", "i/", "o/", "w/", "1/")  # "c/" ... "w/": diff.mnemonicPrefix
_NEW_PREFIXES = ("b/", "c/", "i/", "o/", "w/", "2/")
# git's quote_c_style: these letters after a backslash, or three octal digits for a byte.
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_OCTAL = re.compile(r"[0-7]{3}")


@dataclass(frozen=True)
class FileChange:
    """One file entry of the diff.

    ``anchors`` holds ``(head line, base line)`` pairs where the offset between the two
    sides changes; an unchanged head line maps through the last anchor at or above it.
    """

    old_path: str | None  # None: the head adds the file
    new_path: str | None  # None: the head deletes the file
    added: frozenset[int] = frozenset()
    in_hunks: frozenset[int] = frozenset()  # added and context head lines
    anchors: tuple[tuple[int, int], ...] = ((1, 1),)
    binary: bool = False

    @property
    def is_rename(self) -> bool:
        return None not in (self.old_path, self.new_path) and self.old_path != self.new_path

    def old_line(self, line: int) -> int | None:
        """The base line of an unchanged head line; None for added lines and added files."""
        if self.old_path is None or self.new_path is None or line < 1 or line in self.added:
            return None
        index = bisect_right(self.anchors, line, key=lambda anchor: anchor[0]) - 1
        head, base = self.anchors[index]
        return base + line - head

    def new_line(self, line: int) -> int | None:
        """The head line a base line became; None for a line the change removes or edits."""
        if self.old_path is None or self.new_path is None or line < 1:
            return None
        index = bisect_right(self.anchors, line, key=lambda anchor: anchor[1]) - 1
        head, base = self.anchors[max(index, 0)]
        candidate = head + line - base
        return candidate if self.old_line(candidate) == line else None


@dataclass(frozen=True)
class LineMap:
    """The whole diff, looked up by path. Paths outside the diff are unchanged."""

    files: tuple[FileChange, ...] = ()

    @cached_property
    def _by_new(self) -> Mapping[str, FileChange]:
        return {f.new_path: f for f in self.files if f.new_path is not None}

    @cached_property
    def _by_old(self) -> Mapping[str, FileChange]:
        return {f.old_path: f for f in self.files if f.old_path is not None}

    def change(self, path: str) -> FileChange | None:
        """The diff entry of a head path, if the diff touches it."""
        return self._by_new.get(path)

    def added_lines(self, path: str) -> frozenset[int]:
        """Head lines added or modified in ``path``."""
        change = self.change(path)
        return change.added if change else frozenset()

    def hunk_lines(self, path: str) -> frozenset[int]:
        """Head lines inside a hunk (added or context): where GitHub accepts review comments."""
        change = self.change(path)
        return change.in_hunks if change else frozenset()

    def is_added(self, path: str, line: int) -> bool:
        return line in self.added_lines(path)

    def old_line(self, path: str, line: int) -> int | None:
        """The base line of unchanged head line ``line``; None if added or not in the base."""
        change = self.change(path)
        if change is not None:
            return change.old_line(line)
        return None if path in self._by_old else line

    def new_line(self, old_path: str, line: int) -> int | None:
        """The head line of base line ``line`` of ``old_path`` when the change keeps it."""
        change = self._by_old.get(old_path)
        if change is not None:
            return change.new_line(line)
        return None if old_path in self._by_new else line

    def old_path(self, new_path: str) -> str | None:
        """The base path of a head path: its name before a rename; None for an added file."""
        change = self.change(new_path)
        if change is not None:
            return change.old_path
        return None if new_path in self._by_old else new_path

    def new_path(self, old_path: str) -> str | None:
        """The head path of a base path: its name after a rename; None for a deleted file."""
        change = self._by_old.get(old_path)
        if change is not None:
            return change.new_path
        return None if old_path in self._by_new else old_path

    @property
    def changed_paths(self) -> frozenset[str]:
        """Head paths the diff touches (added, modified, renamed)."""
        return frozenset(self._by_new)

    @cached_property
    def touched_paths(self) -> frozenset[str]:
        """Every path the diff names, on either side (a rename's old and new path)."""
        return frozenset(p for f in self.files for p in (f.old_path, f.new_path) if p)

    @property
    def deleted_paths(self) -> frozenset[str]:
        return frozenset(f.old_path for f in self.files if f.old_path and f.new_path is None)

    @property
    def renamed(self) -> Mapping[str, str]:
        """Base path → head path of every renamed file."""
        return MappingProxyType(
            {
                f.old_path: f.new_path
                for f in self.files
                if f.is_rename and f.old_path and f.new_path
            }
        )


def parse_diff(text: str) -> LineMap:
    """Read the text of ``git diff --find-renames`` into a ``LineMap``."""
    return LineMap(tuple(_parse_file(chunk) for chunk in _split_files(text)))


def go_files_changed(linemap: LineMap) -> bool:
    """Whether the diff touches anything ``go build`` reads: if not, there is nothing to build.

    Test files and what the go command ignores (``testdata``, names starting with ``.`` or
    ``_``) do not count; module files, ``vendor/modules.txt`` and PGO profiles do.
    """
    paths = linemap.touched_paths
    return any(_is_build_input(p) for p in paths)


def nothing_built_note(linemap: LineMap) -> str:
    """The note for a change ``go build`` reads nothing of: which Go files it skipped and why.

    "No Go files changed" would be wrong for a ``.go`` file under ``testdata/`` or ``_tools/``.
    """
    paths = sorted(p for p in linemap.touched_paths if p.endswith(".go"))
    if not paths:
        return "no Go files, module files or PGO profiles changed: nothing was built"
    shown = "; ".join(f"{p}: {_skipped_because(p)}" for p in paths[:_SHOWN_SKIPPED])
    more = f"; and {len(paths) - _SHOWN_SKIPPED} more" if len(paths) > _SHOWN_SKIPPED else ""
    return f"nothing was built: go build compiles none of the changed .go files ({shown}{more})"


_SHOWN_SKIPPED = 5


def _skipped_because(path: str) -> str:
    *directories, name = path.split("/")
    for directory in directories:
        if directory == "testdata":
            return "the go command ignores testdata directories"
        if directory.startswith((".", "_")):
            return f"./... skips directories whose names start with . or _, like {directory}/"
    if name.startswith((".", "_")):
        return "the go command ignores files whose names start with . or _"
    return "a test file: go build does not compile tests"


def changed_packages(linemap: LineMap) -> frozenset[str]:
    """Directories (either side of the diff) holding a changed Go file that ``go build`` reads.

    ``""`` is the repository root. A directory may exist in only one revision.
    """
    return package_dirs(linemap.touched_paths)


def package_dirs(paths: Iterable[str]) -> frozenset[str]:
    """The package directories of the Go files among ``paths`` that ``go build`` compiles.

    Vendored code is not the repository's own: it is never built with diagnostics.
    """
    return frozenset(
        posixpath.dirname(p)
        for p in paths
        if p.endswith(".go") and _is_build_input(p) and "vendor" not in p.split("/")
    )


def _is_build_input(path: str) -> bool:
    parts = path.split("/")  # git's paths: relative, "/"-separated, no empty component
    if any(p == "testdata" or p.startswith((".", "_")) for p in parts):
        return False
    name = parts[-1]
    is_source = name.endswith(".go") and not name.endswith("_test.go")
    return is_source or name in _BUILD_FILES or parts[-2:] == ["vendor", "modules.txt"]


def _split_files(text: str) -> Iterator[list[str]]:
    # A hunk line starts with " ", "+", "-" or "\", so only file headers start with "diff".
    # Split on "\n" only: str.splitlines would also split on "\r", "\f" and "\u2028".
    lines = [line + "\n" for line in text.removesuffix("\n").split("\n")]
    starts = [i for i, line in enumerate(lines) if line.startswith(_GIT_HEADER)]
    for start, end in pairwise([*starts, len(lines)]):
        yield lines[start:end]


def _parse_file(lines: Sequence[str]) -> FileChange:
    body_at = next((i for i, line in enumerate(lines) if line.startswith("@@ ")), len(lines))
    old, new, binary = _read_header(lines[:body_at])
    hunks = _parse_hunks(lines[body_at:], new or old or "")
    return FileChange(
        old_path=old,
        new_path=new,
        added=frozenset(head for head, base in _numbered(hunks) if base is None),
        in_hunks=frozenset(head for head, _ in _numbered(hunks)),
        anchors=_anchors(hunks),
        binary=binary,
    )


def _read_header(lines: Sequence[str]) -> tuple[str | None, str | None, bool]:
    old: str | None
    new: str | None
    old, new = _git_header_paths(lines[0].rstrip("\n"))
    binary = False
    for line in (raw.rstrip("\n") for raw in lines[1:]):
        if line.startswith(("copy from ", "copy to ")):
            raise GitError(
                "the diff reports a copied file; run git diff with --find-renames only "
                "(not --find-copies, and not diff.renames=copies)"
            )
        if line.startswith("rename from "):
            old = _unquote_path(line.removeprefix("rename from "))
        elif line.startswith("rename to "):
            new = _unquote_path(line.removeprefix("rename to "))
        elif line.startswith("--- "):
            old = _side_path(line[4:], _OLD_PREFIXES)
        elif line.startswith("+++ "):
            new = _side_path(line[4:], _NEW_PREFIXES)
        elif line.startswith("new file mode "):
            old = None
        elif line.startswith("deleted file mode "):
            new = None
        elif line.startswith("Binary files ") or line == "GIT binary patch":
            binary = True
    return old, new, binary


def _git_header_paths(line: str) -> tuple[str, str]:
    """Both paths of ``diff --git a/P b/Q``; ambiguous with spaces only for renames,
    whose ``rename from`` and ``rename to`` lines then give the exact names."""
    rest = line.removeprefix(_GIT_HEADER)
    if rest.startswith('"'):
        first, second = _read_quoted(rest)
        return _strip(first, _OLD_PREFIXES), _name(second.lstrip(" "), _NEW_PREFIXES)
    half = len(rest) // 2
    if len(rest) % 2 and rest[half] == " " and rest[2:half] == rest[half + 3 :]:
        sep = half
    else:
        sep = rest.find(" b/") if " b/" in rest else rest.find(" ")
    return _strip(rest[:sep], _OLD_PREFIXES), _name(rest[sep + 1 :], _NEW_PREFIXES)


def _side_path(text: str, prefixes: tuple[str, ...]) -> str | None:
    """The path of a ``---``/``+++`` line: None for /dev/null.

    git ends the line with a tab when a name has a space (for GNU patch); a name holding
    a tab is quoted (``\\t``), so the name ends at the first raw tab.
    """
    name = text.split("\t", 1)[0]
    return None if name == _DEV_NULL else _name(name, prefixes)


def _name(text: str, prefixes: tuple[str, ...]) -> str:
    return _strip(_unquote_path(text), prefixes)


def _strip(path: str, prefixes: tuple[str, ...]) -> str:
    if not path.startswith(prefixes):
        raise GitError(
            f"unexpected path {path!r} in the diff: run git diff with "
            "--src-prefix=a/ --dst-prefix=b/ (diff.noprefix is set?)"
        )
    return path[2:]


def _unquote_path(text: str) -> str:
    return _read_quoted(text)[0] if text.startswith('"') else text


def _read_quoted(text: str) -> tuple[str, str]:
    """Decode a C-quoted name at the start of ``text`` (git's core.quotePath); return it
    and what follows the closing quote."""
    out = bytearray()
    i = 1
    while i < len(text) and text[i] != '"':
        if text[i] != "\\":
            out += text[i].encode()
            i += 1
        elif _OCTAL.match(text, i + 1):
            out.append(int(text[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(_ESCAPES.get(text[i + 1 : i + 2], ord("\\")))
            i += 2
    return out.decode("utf-8", "surrogateescape"), text[i + 1 :]


def _parse_hunks(body: Sequence[str], path: str) -> list[Hunk]:
    if not body:
        return []
    try:
        patch = PatchSet(["--- a/f\n", "+++ b/f\n", *body])
    except UnidiffParseError as err:
        raise GitError(f"cannot read the diff of {path}: {err}") from err
    return list(patch[0]) if patch else []


def _numbered(hunks: Sequence[Hunk]) -> Iterator[tuple[int, int | None]]:
    """``(head line, base line)`` of every head line in the hunks; base is None if added."""
    for hunk in hunks:
        for line in hunk:
            if line.target_line_no is not None and (line.is_added or line.is_context):
                yield line.target_line_no, line.source_line_no


def _anchors(hunks: Sequence[Hunk]) -> tuple[tuple[int, int], ...]:
    points = [(1, 1)]
    for hunk in hunks:
        points += [(head, base) for head, base in _numbered([hunk]) if base is not None]
        points.append(
            (
                _end(hunk.target_start, hunk.target_length),
                _end(hunk.source_start, hunk.source_length),
            )
        )
    anchors = [points[0]]
    for head, base in points[1:]:
        if base - head != anchors[-1][1] - anchors[-1][0]:
            anchors.append((head, base))
    return tuple(anchors)


def _end(start: int, length: int) -> int:
    """The first line after a hunk's side; an empty side's start is the line before it."""
    return start + length if length else start + 1
