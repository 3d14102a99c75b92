"""The build's fast path to the heap records (``ESCAPE``, ``MOVED``) that ``parse_lines`` yields.

Only the lines that can hold one are decoded, found by C-speed searches over byte blocks, and
only the ``-m=2`` flow lines of the explanations asked for are read
(``go build -gcflags=-m=2 std``: 130 MB, 1.4 million lines, of which 67,000 hold " to heap").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from escape_guard.model import EscapeRecord, Kind
from escape_guard.records.parse import (
    FLOW_INDENT,
    HEAP_SUFFIX,
    PARAMETER_PREFIX,
    Explanation,
    PendingExplanations,
    classify,
    is_explanation_header,
    split_position,
)

_HEAP_BYTES = HEAP_SUFFIX.encode()
# Module constants: looking a member up on the enum class costs more in the hot loop.
_KIND_ESCAPE = Kind.ESCAPE
_KIND_MOVED = Kind.MOVED
_NO_LINES: tuple[str, ...] = ()
_PARAMETER_BYTES = PARAMETER_PREFIX.encode()


def parse_heap(
    chunks: Iterable[bytes], *, explain: bool | Callable[[str, int], bool] = False
) -> Iterator[EscapeRecord]:
    """Yield the heap records (``ESCAPE``, ``MOVED``) of a byte stream cut anywhere, in order.

    They equal what ``parse_lines`` yields for those kinds on the same bytes, but only lines
    holding " to heap" and ``#`` package headers are looked at, found by C-speed searches
    over whole blocks: most of a ``-m=2`` output is never decoded. ``explain``: True keeps
    every explanation (as ``explanations=True``), False none (as ``explanations=False``),
    a predicate only those whose header position ``(path, line)`` it accepts, as printed;
    the other records are then as with ``explanations=False``.
    """
    scanner = _HeapScanner(explain)
    carry = b""  # the start of a line the previous chunk did not finish
    for chunk in chunks:
        start = 0
        if carry:  # finish that line apart: joining whole chunks would copy every byte
            start = chunk.find(b"\n") + 1
            if not start:
                carry += chunk
                continue
            line = carry + chunk[:start]
            yield from scanner.scan(line, 0, len(line))
        cut = chunk.rfind(b"\n") + 1
        if cut > start:
            yield from scanner.scan(chunk, start, cut)
        carry = chunk[cut:]
    if carry:
        yield from scanner.scan(carry + b"\n", 0, len(carry) + 1)


class _FlowLines(Explanation):
    """An ``Explanation`` whose lines are kept without their line ends (``parse_heap``)."""

    __slots__ = ()

    def text(self) -> tuple[str, ...]:
        return tuple(self.lines)


class _HeapScanner:
    """``parse_heap``'s state between blocks: package, pending headers, a flow being read.

    A block is searched for " to heap" (heap facts and heap headers hold it; leak headers,
    flow lines and most other lines do not) and for lines starting with ``#``; only those
    lines are decoded. An explanation's flow lines are the lines right after its header
    that start with the header's position and the two-space indent, as the compiler prints
    them; they may continue in the next block. (``parse_lines`` would also take such a line
    printed after another line but before the next header; the compiler prints none.)
    """

    def __init__(self, explain: bool | Callable[[str, int], bool]) -> None:
        self._explain = explain is not False
        self._wants = None if isinstance(explain, bool) else explain
        self._package = ""
        self._pending = PendingExplanations()
        self._flow: _FlowLines | None = None  # the explanation whose flow lines are being read
        self._prefix = b""  # its "path:line:col:   " as printed
        self._split = ""  # the same decoded, after a newline: where its flow lines part

    def scan(self, data: bytes, pos: int, cut: int) -> list[EscapeRecord]:
        """The records of the lines in ``data[pos:cut]``, from a line start to a newline."""
        records: list[EscapeRecord] = []
        if self._flow is not None:
            pos = self._read_flow(data, pos, cut)
        package_at = _hash_line(data, pos, cut)
        find, explain = data.find, self._explain
        while (found := find(b" to heap", pos, cut)) >= 0:
            start = data.rfind(b"\n", 0, found) + 1
            pos = find(b"\n", found) + 1
            while package_at <= start:
                package_at = self._set_package(data, package_at, cut)
            if data[start] == 0x23:  # "#": a package header, handled above
                continue
            if data[pos - 2] == 0x3A and (after := self._header(data, start, pos, cut)):
                pos = after
                continue
            text = data[start : pos - 1].decode("utf-8", "replace").rstrip("\r")
            head, sep, message = text.partition(": ")
            if not sep or message.startswith(" ") or head.startswith(("\t", " ")):
                continue
            if message.endswith(":") and is_explanation_header(message):
                if explain and not message.startswith(PARAMETER_PREFIX):
                    pos = self._open(data, start, data.find(b": ", start), pos, cut)
                continue
            position = split_position(head)
            kind, expression = classify(message)
            if position is None or (kind is not _KIND_ESCAPE and kind is not _KIND_MOVED):
                continue
            function, explanation = "", _NO_LINES
            if explain:
                function, explanation = self._pending.explain(head, expression)
            records.append(
                EscapeRecord(
                    *position, kind, expression, message, function, self._package, explanation
                )
            )
        while package_at < cut:
            package_at = self._set_package(data, package_at, cut)
        return records

    def _header(self, data: bytes, start: int, pos: int, cut: int) -> int:
        """Pass over the line from ``start`` to ``pos``, ending with ":", when it holds no fact.

        Explanation headers end so; heap facts never do but for ``moved to heap: x:``. With
        explanations a heap header is opened, checked as ``parse_lines`` checks it but on
        the bytes, so that most headers are never decoded. The offset to go on from, or 0:
        the line is something else.
        """
        if not self._explain:
            return 0 if data.find(b": moved to heap: ", start, pos) >= 0 else pos
        head_end = data.find(b": ", start, pos)
        if head_end < 0 or data[start] in b"\t " or data[head_end + 2] == 0x20:
            return 0
        if data.startswith(_PARAMETER_BYTES, head_end + 2):
            return pos  # a leak header, or else not a heap fact either
        heap = data.rfind(_HEAP_BYTES, head_end + 2, pos)
        tail = heap + len(HEAP_SUFFIX)
        if heap < 0 or not (tail == pos - 2 or data.startswith(b" in ", tail, pos)):
            return 0
        return self._open(data, start, head_end, pos, cut)

    def _open(self, data: bytes, start: int, head_end: int, pos: int, cut: int) -> int:
        """Register the heap header on the line from ``start`` to ``pos``; read its flow lines
        if they are wanted. The offset to go on from: ``pos``, or after the flow lines.
        """
        head = data[start:head_end].decode("utf-8", "replace")
        if self._wants is not None:
            position = split_position(head)
            if position is None or not self._wants(position[0], position[1]):
                self._pending.pass_over()
                return pos
        header = data[head_end + 2 : pos - 1].decode("utf-8", "replace").rstrip("\r")
        self._flow = _FlowLines("", header)
        self._pending.open(head, self._flow)
        self._prefix = data[start : head_end + 2] + b"  "
        self._split = f"\n{head}: {FLOW_INDENT}"
        return self._read_flow(data, pos, cut)

    def _read_flow(self, data: bytes, pos: int, cut: int) -> int:
        """Append the flow lines starting at ``pos`` to the open explanation; the offset after."""
        assert self._flow is not None
        prefix, start = self._prefix, pos
        while pos < cut and data.startswith(prefix, pos):
            pos = data.find(b"\n", pos) + 1
        if pos > start:
            body = data[start + len(prefix) : pos - 1].decode("utf-8", "replace")
            lines = body.split(self._split)
            if "\r" in body:
                lines = [line.rstrip("\r") for line in lines]
            self._flow.lines.extend(lines)
        if pos < cut:
            self._flow = None  # a line of something else: this explanation is complete
        return pos

    def _set_package(self, data: bytes, start: int, cut: int) -> int:
        """Take the ``#`` line at ``start`` as the package header; the next ``#`` line."""
        end = data.find(b"\n", start)
        self._package = data[start + 1 : end].decode("utf-8", "replace").strip()
        self._pending.clear()
        return _hash_line(data, end + 1, cut)


def _hash_line(data: bytes, start: int, cut: int) -> int:
    """Where the first line at or after the line start ``start`` that begins with ``#`` is."""
    # One byte is searched with memchr: "\n#" as a pair would be found several times slower.
    found = data.find(b"#", start, cut)
    while found > start and data[found - 1] != 0x0A:
        found = data.find(b"#", found + 1, cut)
    return found if found >= 0 else cut
