"""The import declarations of a Go source file, found by a small lexer.

Enough of Go's lexical grammar to walk the package clause and the import declarations
that follow it: white space, semicolons, comments, identifiers and string literals.
Comments can hold anything (a ``)`` or a quoted path), so a regular expression over the
file is not enough when a missed import would change results.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class ImportSpec(NamedTuple):
    path: str  # the imported path
    start: int  # offset of the string literal's opening quote
    end: int  # offset just after its closing quote


class _Unparsed(Exception):
    pass


_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_BLANK = " \t\r\n;"
_EMBED = "//go:embed"


def import_specs(source: str) -> list[ImportSpec] | None:
    """The file's import specs in order; None when its header is not what gofmt'd Go looks like.

    Only the header is read: the scan stops at the first declaration that is not an import.
    """
    try:
        return _Lexer(source).header()
    except _Unparsed:
        return None


def header(source: str) -> str | None:
    """What the go command reads of a file to list its package: the text up to the first
    declaration that is not an import (build constraints, package clause, imports, and the
    comments between them); None when its header is not what gofmt'd Go looks like."""
    lexer = _Lexer(source)
    try:
        lexer.header()
    except _Unparsed:
        return None
    return source[: lexer.pos]


def listed_alike(old: str, new: str) -> bool:
    """Whether the go command lists two versions of a file alike: the same header, and no
    ``//go:embed`` in either (its patterns are checked against the files beside it)."""
    if _EMBED in old or _EMBED in new:
        return False
    before = header(old)
    return before is not None and before == header(new)


class _Lexer:
    def __init__(self, source: str) -> None:
        self.text = source
        self.pos = 0

    def header(self) -> list[ImportSpec]:
        self.skip()
        if not self.keyword("package"):
            raise _Unparsed
        self.skip()
        self.identifier()
        specs: list[ImportSpec] = []
        while True:
            self.skip()
            if not self.keyword("import"):
                return specs
            self.skip()
            if self.text.startswith("(", self.pos):
                self.pos += 1
                while True:
                    self.skip()
                    if self.text.startswith(")", self.pos):
                        self.pos += 1
                        break
                    specs.append(self.spec())
            else:
                specs.append(self.spec())

    def skip(self) -> None:
        """Past white space, semicolons and comments."""
        text = self.text
        while self.pos < len(text):
            if text[self.pos] in _BLANK:
                self.pos += 1
            elif text.startswith("//", self.pos):
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline + 1
            elif text.startswith("/*", self.pos):
                close = text.find("*/", self.pos + 2)
                if close < 0:
                    raise _Unparsed
                self.pos = close + 2
            else:
                return

    def keyword(self, word: str) -> bool:
        match = _IDENTIFIER.match(self.text, self.pos)
        if match is None or match.group() != word:
            return False
        self.pos = match.end()
        return True

    def identifier(self) -> str:
        match = _IDENTIFIER.match(self.text, self.pos)
        if match is None:
            raise _Unparsed
        self.pos = match.end()
        return match.group()

    def spec(self) -> ImportSpec:
        """``[name] "path"``, the name an identifier, ``.`` or ``_``."""
        if self.text.startswith(".", self.pos):
            self.pos += 1
        elif not self.text.startswith(('"', "`"), self.pos):
            self.identifier()
        self.skip()
        quote = self.text[self.pos : self.pos + 1]
        if quote not in ('"', "`"):
            raise _Unparsed
        close = self.text.find(quote, self.pos + 1)
        if close < 0:
            raise _Unparsed
        path = self.text[self.pos + 1 : close]
        if "\n" in path or (quote == '"' and "\\" in path):
            raise _Unparsed  # no import path needs an escape
        start, self.pos = self.pos, close + 1
        return ImportSpec(path, start, self.pos)
