"""The source files of a revision that findings point at."""

from __future__ import annotations

from escape_guard.builds.checkout import Tree
from escape_guard.records.functions import FunctionIndex, function_index


class SourceCache:
    """Lines and function indexes of a revision's files, read once each, kept afterwards."""

    def __init__(self, tree: Tree) -> None:
        self._tree = tree
        self.lines: dict[str, list[str]] = {}
        self._index: dict[str, FunctionIndex] = {}

    def read(self, path: str) -> list[str]:
        if path not in self.lines:
            file = self._tree.file(path)
            self.lines[path] = _lines(file) if file else []
        return self.lines[path]

    def names(self, directory: str) -> list[str]:
        """The file names of a repository directory in this revision."""
        return self._tree.names(directory)

    def function_at(self, path: str, line: int) -> str:
        if path not in self._index:
            self._index[path] = function_index("\n".join(self.read(path)))
        return self._index[path].at(line)


def _lines(file: str) -> list[str]:
    try:
        with open(file, encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError:
        return []
