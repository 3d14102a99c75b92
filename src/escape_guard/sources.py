"""The source files of a checked-out revision that findings point at."""

from __future__ import annotations

import os

from escape_guard.functions import FunctionIndex, function_index


class SourceCache:
    """Lines and function indexes of a revision's files, read once each, kept after checkout."""

    def __init__(self, root: str) -> None:
        self._root = root
        self.lines: dict[str, list[str]] = {}
        self._index: dict[str, FunctionIndex] = {}

    def read(self, path: str) -> list[str]:
        if path not in self.lines:
            try:
                with open(os.path.join(self._root, path), encoding="utf-8", errors="replace") as fh:
                    self.lines[path] = fh.read().splitlines()
            except OSError:
                self.lines[path] = []
        return self.lines[path]

    def function_at(self, path: str, line: int) -> str:
        if path not in self._index:
            self._index[path] = function_index("\n".join(self.read(path)))
        return self._index[path].at(line)
