"""Decide which heap escapes a change introduces, keeps and removes.

Only heap records take part. Every one of them ends in exactly one ``Finding``: a head
record as NEW, INDIRECT or UNCHANGED, a base record with no head counterpart as FIXED or
INDIRECT_FIXED (carrying the base path and line). Four passes, each on what the previous
left:

1. Same line. A head record on an unchanged line pairs with a base record on the base
   line it came from, of the same kind: UNCHANGED. The same expression first, the same
   column first; then another expression at the same column (the compiler names one
   allocation differently when inlining decisions change: ``(*Value).Type(v) escapes to
   heap`` becomes ``~r0 escapes to heap`` at the same position). The enclosing function
   does not take part: a new function header above unchanged lines, or a renamed
   function, moves them into another function without changing what they allocate.
2. Same identity. Per identity (head path, function, kind, expression), base records on
   removed lines pair with head records on added lines first, nearest line first (an
   edited or reformatted line that keeps its escape, code moved within the file); then
   the base records left, on any line, with head records on unchanged lines: UNCHANGED.
   A record gone from a kept line excuses no record on an added line. Head records left
   on added lines are NEW (a second identical ``&T{}`` in one function is caught); left on
   unchanged lines, INDIRECT (caused by a change elsewhere, e.g. a callee that now leaks
   its parameter).
   Records outside the repository (generic code of the toolchain, wrappers) take no part:
   their files do not change, so only their position pairs them.
3. Moves across files. Identity holds the path, so a function moved into another file
   (or a rename git did not detect: a delete and an add) leaves NEW records in one file
   and base records on removed lines in another. A NEW and such a base record with the
   same function, kind and expression pair up as UNCHANGED. Records without a known
   function never pair here: "&T{} in some function" is too weak a clue to excuse a new
   escape.
4. Inlined copies of moved code. A NEW record on a line where the compiler inlined a
   function into which pass 1 saw the same allocation move from this function (a loop
   extracted into a helper, lines unchanged, the helper called where the loop was) is
   UNCHANGED, with no base record of its own: the allocation the caller always made, now
   also reported at the call. It needs the head's ``inlining call to`` records.

Base records left are FIXED when the change removed or edited their line, and
INDIRECT_FIXED when it kept the line: the mirror of INDIRECT. A record gone from a line
nobody touched was not fixed there; a callee that stopped being inlined takes the
records at its call sites with it while it still allocates.

Base paths are mapped through renames before identities are built, so a renamed file,
edited or not, compares as one file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol, TypeVar

from escape_guard.diffmap import LineMap
from escape_guard.model import EscapeRecord, Finding, Identity, Kind, Status
from escape_guard.records.functions import fold_function

_K = TypeVar("_K", bound=Hashable)
_NO_MATCH = 1 << 62


class KeyFunction(Protocol):
    """What makes two records the same escape; ``path`` overrides the record's path."""

    def __call__(self, record: EscapeRecord, *, path: str | None = None) -> Identity: ...


class _Entry(NamedTuple):
    record: EscapeRecord
    identity: Identity


class _Pairing(NamedTuple):
    """Indices into the head and base entries after a pass."""

    paired: list[int]  # head entries that found a base counterpart
    new: list[int]  # head entries left on added lines
    indirect: list[int]  # head entries left on unchanged lines
    fixed: list[int]  # base entries left (FIXED or INDIRECT_FIXED, by their line)


def compare(
    base: Iterable[EscapeRecord],
    head: Iterable[EscapeRecord],
    linemap: LineMap,
    *,
    key: KeyFunction | None = None,
) -> list[Finding]:
    """Findings for every heap record of both revisions, in a stable order."""
    identify = key or _plain_identity
    head = list(head)
    heads = _entries(head, identify, lambda path: path)
    bases = _entries(base, identify, lambda path: linemap.new_path(path) or path)
    by_line = _pair_same_lines(heads, bases, linemap)
    left_heads = [i for i in range(len(heads)) if i not in by_line]
    left_bases = sorted(set(range(len(bases))) - set(by_line.values()))
    counted = _pair_same_identity(heads, bases, left_heads, left_bases, linemap)
    kept = [j for j in counted.fixed if _kept(bases[j].record, linemap)]
    removed = sorted(set(counted.fixed) - set(kept))
    moved = _pair_moves(heads, bases, counted.new, removed)
    copies = _inlined_copies(heads, bases, by_line, moved.new, _inlined_calls(head))
    findings = [Finding(heads[i].record, Status.UNCHANGED) for i in by_line]
    findings += [Finding(heads[i].record, Status.UNCHANGED) for i in counted.paired]
    findings += [Finding(heads[i].record, Status.UNCHANGED) for i in moved.paired]
    findings += [Finding(heads[i].record, Status.UNCHANGED) for i in copies]
    findings += [Finding(heads[i].record, Status.NEW) for i in moved.new if i not in copies]
    findings += [Finding(heads[i].record, Status.INDIRECT) for i in counted.indirect]
    findings += [Finding(bases[i].record, Status.FIXED) for i in moved.fixed]
    findings += [Finding(bases[i].record, Status.INDIRECT_FIXED) for i in kept]
    return sorted(findings, key=_order)


_INLINING_CALL = "inlining call to "


def _inlined_calls(records: Iterable[EscapeRecord]) -> dict[tuple[str, int], set[str]]:
    """(path, line) → the functions the compiler inlined into calls on that line."""
    calls: dict[tuple[str, int], set[str]] = defaultdict(set)
    for r in records:
        if r.kind is Kind.INLINING and r.message.startswith(_INLINING_CALL):
            calls[r.path, r.line].add(fold_function(r.expression))
    return calls


def _inlined_copies(
    heads: Sequence[_Entry],
    bases: Sequence[_Entry],
    by_line: Mapping[int, int],
    new: Sequence[int],
    inlined: Mapping[tuple[str, int], set[str]],
) -> set[int]:
    """Pass 4: NEW records that are a copy of code which moved, lines unchanged, into a
    function inlined here.

    Extracting a loop into ``writeBlocks`` (pass 1 pairs the loop's records across the
    new header) and calling it where the loop was: the compiler also reports the loop's
    allocations at the added call line once it inlines ``writeBlocks`` there. They are the
    allocations the caller always made; a call of an inlinable function that did not take
    code from its caller stays new.
    """
    moved_in: dict[tuple[str, Kind, str, str], list[int]] = defaultdict(list)
    for i, j in by_line.items():
        callee, origin = heads[i].identity.function, bases[j].identity.function
        if callee and callee != origin:
            identity = heads[i].identity
            moved_in[callee, identity.kind, identity.expression, origin].append(i)
    copies: set[int] = set()
    for i in new:
        record, identity = heads[i]
        for callee in sorted(inlined.get((record.path, record.line), ())):
            sources = moved_in.get((callee, identity.kind, identity.expression, identity.function))
            if sources:
                sources.pop()
                copies.add(i)
                break
    return copies


def _kept(record: EscapeRecord, linemap: LineMap) -> bool:
    """Whether the change keeps the base line ``record`` is on."""
    return linemap.new_line(record.path, record.line) is not None


def _plain_identity(record: EscapeRecord, *, path: str | None = None) -> Identity:
    return Identity(
        record.path if path is None else path, record.function, record.kind, record.expression
    )


def _entries(
    records: Iterable[EscapeRecord], identify: KeyFunction, head_path: Callable[[str], str]
) -> list[_Entry]:
    heap = sorted((r for r in records if r.is_heap), key=_position)
    return [_Entry(r, identify(r, path=head_path(r.path))) for r in heap]


def _pair_same_lines(
    heads: Sequence[_Entry], bases: Sequence[_Entry], linemap: LineMap
) -> dict[int, int]:
    """Pass 1: head index → base index for records that stayed on an unchanged line."""
    at_line: dict[tuple[str, int], list[int]] = defaultdict(list)
    for j, entry in enumerate(bases):
        at_line[entry.record.path, entry.record.line].append(j)
    candidates: dict[int, list[int]] = {}
    for i, (record, identity) in enumerate(heads):
        old_path = linemap.old_path(record.path)
        old_line = linemap.old_line(record.path, record.line)
        if old_path is not None and old_line is not None:
            same = [
                j for j in at_line[old_path, old_line] if bases[j].identity.kind == identity.kind
            ]
            candidates[i] = same
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    # The same expression first, then any; each with the same column first: with two
    # identical escapes on a line and one of them new, the new one is the one whose
    # column the base does not have.
    for same_expression, same_column in _PASS_ONE:
        for i, same in candidates.items():
            if i in pairs:
                continue
            record, identity = heads[i]
            free = [
                j
                for j in same
                if j not in taken
                and (not same_expression or bases[j].identity.expression == identity.expression)
                and (not same_column or bases[j].record.column == record.column)
            ]
            if free:
                pairs[i] = min(free, key=lambda j: abs(bases[j].record.column - record.column))
                taken.add(pairs[i])
    return dict(sorted(pairs.items()))


# Another name pairs only at the same column: where the compiler renames one allocation
# (an inlined call's result), it reports it at the same position; two variables declared on
# one line are two escapes.
_PASS_ONE = ((True, True), (True, False), (False, True))


def _pair_same_identity(
    heads: Sequence[_Entry],
    bases: Sequence[_Entry],
    left_heads: Sequence[int],
    left_bases: Sequence[int],
    linemap: LineMap,
) -> _Pairing:
    """Pass 2: what pass 1 left, compared as multisets of identities."""
    # Outside the repository (the toolchain's generic code, wrappers) nothing is edited and
    # nothing names a function: only the position pairs them (pass 1), never the name.
    result = _Pairing([], [], [i for i in left_heads if not heads[i].record.in_repo], [])
    result.fixed.extend(j for j in left_bases if not bases[j].record.in_repo)
    head_groups = _group(
        (i for i in left_heads if heads[i].record.in_repo), lambda i: heads[i].identity
    )
    base_groups = _group(
        (j for j in left_bases if bases[j].record.in_repo), lambda j: bases[j].identity
    )
    for identity in sorted(head_groups.keys() | base_groups.keys()):
        group = head_groups.get(identity, [])
        added = [i for i in group if linemap.is_added(heads[i].record.path, heads[i].record.line)]
        unchanged = sorted(set(group) - set(added))
        group_bases = base_groups.get(identity, [])
        kept = [j for j in group_bases if _kept(bases[j].record, linemap)]
        removed = sorted(set(group_bases) - set(kept))
        # A record gone from a kept line excuses nothing on an added one: the added line's
        # allocation is new, the one gone went for a reason elsewhere.
        paired, new, rest = _nearest(added, removed, heads, bases)
        paired_too, indirect, fixed = _nearest(unchanged, sorted(rest + kept), heads, bases)
        result.paired.extend(paired + paired_too)
        result.new.extend(new)
        result.indirect.extend(indirect)
        result.fixed.extend(fixed)
    return result


def _pair_moves(
    heads: Sequence[_Entry], bases: Sequence[_Entry], new: Sequence[int], fixed: Sequence[int]
) -> _Pairing:
    """Pass 3: NEW and removed base records of one function, kind and expression are a move."""
    head_groups = _group(sorted(new), lambda i: heads[i].identity[1:])
    base_groups = _group(sorted(fixed), lambda i: bases[i].identity[1:])
    result = _Pairing([], [], [], [])
    for clue in sorted(head_groups.keys() | base_groups.keys()):
        group_heads = head_groups.get(clue, [])
        group_bases = base_groups.get(clue, [])
        count = min(len(group_heads), len(group_bases)) if clue[0] else 0
        result.paired.extend(group_heads[:count])
        result.new.extend(group_heads[count:])
        result.fixed.extend(group_bases[count:])
    return result


def _nearest(
    head_ids: Sequence[int],
    base_ids: Sequence[int],
    heads: Sequence[_Entry],
    bases: Sequence[_Entry],
) -> tuple[list[int], list[int], list[int]]:
    """Pair head and base records of one identity in line order, nearest lines together.

    Returns the paired head indices, the head indices left and the base indices left.
    """
    matched = _closest_pairs(
        [heads[i].record.line for i in head_ids], [bases[j].record.line for j in base_ids]
    )
    head_taken = {head_ids[a] for a, _ in matched}
    base_taken = {base_ids[b] for _, b in matched}
    return (
        [i for i in head_ids if i in head_taken],
        [i for i in head_ids if i not in head_taken],
        [j for j in base_ids if j not in base_taken],
    )


def _closest_pairs(xs: Sequence[int], ys: Sequence[int]) -> list[tuple[int, int]]:
    """Match ``min(len(xs), len(ys))`` elements of two sorted sequences in order so that
    the total distance is smallest; returns index pairs ``(i, j)``."""
    if len(xs) > len(ys):
        return [(i, j) for j, i in _closest_pairs(ys, xs)]
    # cost[i][j]: cheapest way to match all of xs[:i] within ys[:j].
    cost = [[0] * (len(ys) + 1)] + [[_NO_MATCH] * (len(ys) + 1) for _ in xs]
    for i in range(1, len(xs) + 1):
        for j in range(i, len(ys) + 1):
            take = cost[i - 1][j - 1] + abs(xs[i - 1] - ys[j - 1])
            cost[i][j] = min(cost[i][j - 1], take)
    pairs: list[tuple[int, int]] = []
    i, j = len(xs), len(ys)
    while i > 0:
        if j > i and cost[i][j] == cost[i][j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


def _group(indices: Iterable[int], by: Callable[[int], _K]) -> dict[_K, list[int]]:
    groups: dict[_K, list[int]] = defaultdict(list)
    for i in indices:
        groups[by(i)].append(i)
    return groups


_Position = tuple[str, int, int, str, str, str, str, str]


def _position(record: EscapeRecord) -> _Position:
    """Sort key: ``sort_findings`` order first, then every other field, so the result
    does not depend on the order the records came in."""
    r = record
    return (r.path, r.line, r.column, r.message, r.function, r.kind, r.expression, r.package)


def _order(finding: Finding) -> tuple[_Position, str]:
    return _position(finding.record), finding.status
