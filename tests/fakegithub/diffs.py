"""What GitHub knows about a pull request's diff: files, hunks and commentable lines."""

from __future__ import annotations

from dataclasses import dataclass

from unidiff.patch import PatchedFile, PatchSet

LEFT, RIGHT = "LEFT", "RIGHT"


@dataclass(frozen=True)
class DiffLine:
    """One line of a file's patch that a review comment can anchor to."""

    side: str  # LEFT for removed lines, RIGHT for added and context lines
    line: int  # the line number on that side
    hunk: int  # index of the hunk in the file's patch
    position: int  # GitHub's legacy "position": lines below the file's first @@ header


@dataclass(frozen=True)
class FileDiff:
    """One changed file, as GET /pulls/{n}/files reports it."""

    path: str
    previous_path: str | None
    status: str  # added, removed, modified, renamed
    additions: int
    deletions: int
    patch: str
    lines: tuple[DiffLine, ...]
    headers: tuple[int, ...]  # index in ``patch`` of each hunk's @@ line

    def find(self, line: int, side: str) -> DiffLine | None:
        """The diff line for LINE on SIDE, or None when it is outside every hunk."""
        return next((d for d in self.lines if d.line == line and d.side == side), None)

    def at_position(self, position: int) -> DiffLine | None:
        """The diff line at a legacy ``position``, or None for a hunk header or beyond."""
        return next((d for d in self.lines if d.position == position), None)

    def diff_hunk(self, target: DiffLine) -> str:
        """The hunk from its header down to TARGET, as GitHub's ``diff_hunk`` shows it."""
        text = self.patch.splitlines()
        return "\n".join(text[self.headers[target.hunk] : target.position + 1])


def _path(name: str) -> str | None:
    if name == "/dev/null":
        return None
    return name[2:] if name.startswith(("a/", "b/")) else name


def _status(patched: PatchedFile, old: str | None, new: str | None) -> str:
    if patched.is_added_file or old is None:
        return "added"
    if patched.is_removed_file or new is None:
        return "removed"
    return "renamed" if old != new else "modified"


def _lines(patched: PatchedFile) -> tuple[tuple[DiffLine, ...], tuple[int, ...]]:
    out: list[DiffLine] = []
    headers: list[int] = []
    position = 0
    for index, hunk in enumerate(patched):
        if index:
            position += 1  # later hunk headers count as positions
        headers.append(position)
        for line in hunk:
            position += 1
            if line.is_removed:
                out.append(DiffLine(LEFT, line.source_line_no, index, position))
            elif line.is_added or line.is_context:
                out.append(DiffLine(RIGHT, line.target_line_no, index, position))
    return tuple(out), tuple(headers)


def parse(diff: str) -> dict[str, FileDiff]:
    """Parse unified diff text (``git diff`` output) into files keyed by head path."""
    files: dict[str, FileDiff] = {}
    for patched in PatchSet(diff):
        old, new = _path(patched.source_file), _path(patched.target_file)
        path = new or old
        assert path is not None, patched
        lines, headers = _lines(patched)
        files[path] = FileDiff(
            path=path,
            previous_path=old if old not in (None, new) and new is not None else None,
            status=_status(patched, old, new),
            additions=patched.added,
            deletions=patched.removed,
            patch="".join(str(h) for h in patched).rstrip("\n"),
            lines=lines,
            headers=headers,
        )
    return files
