"""Which function a source line belongs to, and compiler function names folded for identity.

``go build -gcflags=-m`` does not name the enclosing function, so it is read from the Go
source: ``function_index(source).at(line)``. Names follow the compiler's spelling without
type arguments: ``F``, ``(*T).M`` for pointer receivers, ``T.M`` for value receivers.

Only top-level ``func`` declarations count. Lines outside them (imports, types, package-level
``var x = func() {...}`` initialisers, comments between functions) map to "" even though the
compiler attributes initialisers to ``init`` (``-m=2`` says ``in init``): the source holds no
``init`` to point at, and "" says plainly that the line is at package level.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from dataclasses import dataclass

# Skips comments, strings, raw strings and runes whole, so their braces and a "func" at the
# start of a line inside a raw string are never taken for code.
_TOKEN = re.compile(
    r"""//[^\n]*
      | /\*.*?\*/
      | `[^`]*`
      | "(?:\\.|[^"\\\n])*"
      | '(?:\\.|[^'\\\n])*'
      | [{}]
      | ^(?:func|var|const|type|import)\b
    """,
    re.MULTILINE | re.DOTALL | re.VERBOSE,
)
_HEADER = re.compile(
    r"func\s*(?:\((?P<receiver>[^)]*)\)\s*)?(?P<name>[^\W\d]\w*)",
)
_TYPE_ARGUMENTS = re.compile(r"\[[^\[\]]*\]")


@dataclass(frozen=True)
class FunctionIndex:
    """Top-level functions of one file as sorted, non-overlapping 1-based line spans."""

    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()
    names: tuple[str, ...] = ()

    def at(self, line: int) -> str:
        """The function enclosing ``line``; "" outside any function."""
        index = bisect_right(self.starts, line) - 1
        if index >= 0 and line <= self.ends[index]:
            return self.names[index]
        return ""


@functools.lru_cache(maxsize=1024)
def function_index(source: str) -> FunctionIndex:
    """Index the top-level function declarations of gofmt'd Go source.

    Remembered by text: a file neither revision changed is indexed once for both.
    """
    spans: list[tuple[int, int, str]] = []
    lines = _LineCounter(source)
    depth = 0
    current: list[int] | None = None  # [start line, end line] of the open declaration
    name = ""
    for token in _TOKEN.finditer(source):
        text = token.group()
        if text == "{":
            depth += 1
        elif text == "}":
            depth = max(depth - 1, 0)
            if depth == 0 and current is not None:
                current[1] = lines.at(token.start())
        elif depth == 0 and text[0].isalpha():  # a top-level keyword ends a declaration
            if current is not None:
                spans.append((current[0], current[1], name))
                current = None
            if text == "func":
                line = lines.at(token.start())
                current, name = [line, line], _declared_name(source, token.start())
    if current is not None:
        spans.append((current[0], current[1], name))
    starts, ends, names = zip(*spans, strict=True) if spans else ((), (), ())
    return FunctionIndex(tuple(starts), tuple(ends), tuple(names))


class _LineCounter:
    """1-based line numbers of increasing offsets, counting each newline once."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._offset = 0
        self._line = 1

    def at(self, offset: int) -> int:
        self._line += self._source.count("\n", self._offset, offset)
        self._offset = offset
        return self._line


def _declared_name(source: str, offset: int) -> str:
    """``F``, ``(*T).M`` or ``T.M`` from the declaration at ``offset``, type parameters dropped."""
    header = _HEADER.match(source, offset)
    if header is None:
        return ""
    receiver = header.group("receiver")
    if receiver is None:
        return header.group("name")
    receiver_type = _strip_type_arguments(receiver).split()[-1:] or [""]
    base = receiver_type[0]
    if base.startswith("*"):
        return f"({base}).{header.group('name')}"
    return f"{base}.{header.group('name')}"


def _strip_type_arguments(text: str) -> str:
    """Remove ``[...]`` groups, innermost first: ``List[Pair[K, V]]`` -> ``List``."""
    while True:
        stripped = _TYPE_ARGUMENTS.sub("", text)
        if stripped == text:
            return stripped
        text = stripped


_CLOSURE = re.compile(r"\.func\d+((?:\.\d+)*)")
_RANGE_BODY = re.compile(r"-range\d+")
_INLINE_HASH = re.compile(r"#[A-Za-z0-9+/_-]{8,}=*#")
_MIDDLE_DOT = re.compile(r"·\d+")


@functools.lru_cache(maxsize=8192)  # a package's records name few functions, many times each
def fold_function(name: str) -> str:
    """Fold compiler numbering in a function name so that it survives unrelated edits.

    ``lit.func1`` -> ``lit.func#``, ``F.func1.2`` -> ``F.func#.#``, ``glob..func2`` ->
    ``glob..func#``, ``gen[go.shape.int]`` -> ``gen``, ``(*List[go.shape.int]).Push`` ->
    ``(*List).Push``, range-over-func bodies ``F-range1`` -> ``F-range#`` (the hash Go adds to
    an inlined one, ``#4m89CjeH1hI=#``, is dropped), ``u·1`` -> ``u·#``.
    """
    folded = _strip_type_arguments(name)
    folded = _INLINE_HASH.sub("", folded)
    folded = _CLOSURE.sub(lambda m: ".func#" + re.sub(r"\d+", "#", m.group(1)), folded)
    folded = _RANGE_BODY.sub("-range#", folded)
    return _MIDDLE_DOT.sub("·#", folded)
