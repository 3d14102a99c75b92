"""The comparison from revisions to a Report: the engine behind ``diff`` and ``action``."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from escape_guard.build import (
    BuildSpec,
    RevisionBuild,
    build_revision,
    go_version,
    stop_builds,
    warm_dependencies,
)
from escape_guard.compare import compare
from escape_guard.config import Config
from escape_guard.diffmap import (
    LineMap,
    changed_packages,
    go_files_changed,
    package_dirs,
    parse_diff,
)
from escape_guard.errors import GitError
from escape_guard.functions import FunctionIndex, function_index
from escape_guard.git import Git
from escape_guard.merge import select_shard
from escape_guard.model import EscapeRecord, Finding, Report, Revision, Status
from escape_guard.normalize import PathResolver, identity, normalize
from escape_guard.suppress import suppression


@dataclass(frozen=True)
class DiffOptions:
    repo: str = "."
    base: str = "main"
    head: str | None = None  # None: HEAD, or the working tree when it has changes
    config: Config = field(default_factory=Config)
    explain: bool = False
    all_packages: bool = False  # build every selected package, not only the changed ones
    shard: tuple[int, int] | None = None  # (K, N): build only the K-th of N shares
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


Progress = Callable[[str], None]


class Revisions(NamedTuple):
    base: Revision
    head: Revision
    merge_base: str
    notes: tuple[str, ...]


class Timer:
    """Collects (phase, seconds) pairs and tells progress as phases start."""

    def __init__(self, progress: Progress | None = None) -> None:
        self.phases: list[tuple[str, float]] = []
        self._progress = progress

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if self._progress:
            self._progress(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases.append((name, time.perf_counter() - start))


def resolve_revisions(git: Git, base: str, head: str | None) -> Revisions:
    """Base, head and their merge base, as GitHub compares a pull request."""
    notes: list[str] = []
    if head is None:
        snapshot = git.snapshot()
        if snapshot:
            head_rev = Revision("working tree", snapshot)
            notes.append(
                "comparing the working tree, including uncommitted changes to "
                "tracked files, as the head (pass --head HEAD to compare commits only)"
            )
            untracked = git.untracked("*.go")
            if untracked:
                notes.append(
                    f"{len(untracked)} untracked .go file(s) are not part of the "
                    f"comparison (e.g. {untracked[0]}); git add them to include them"
                )
        else:
            head_rev = Revision("HEAD", git.resolve("HEAD"))
    else:
        head_rev = Revision(head, git.resolve(head))
    base_rev = Revision(base, git.resolve(base))
    merge_base = git.merge_base(base_rev.sha, head_rev.sha)
    if merge_base is None:
        shallow = " (this clone is shallow: fetch more history)" if git.is_shallow() else ""
        raise GitError(f"{base} and {head_rev.ref} have no common ancestor{shallow}")
    return Revisions(base_rev, head_rev, merge_base, tuple(notes))


class Analysis(NamedTuple):
    """Normalized heap records of one revision and the source files they point at."""

    records: list[EscapeRecord]
    sources: _SourceCache


def analyze(
    root: str, spec: BuildSpec, *, label: str, packages: frozenset[str] | None = None
) -> Analysis:
    """Build and normalize the revision checked out at ``root``."""
    built = build_revision(root, spec, label=label, packages=packages)
    return _normalized(root, built)


def _normalized(root: str, built: RevisionBuild) -> Analysis:
    modules = {m.path: m.dir for m in built.modules}
    sources = _SourceCache(root)
    records: list[EscapeRecord] = []
    seen: set[tuple[str, int, int, str]] = set()
    for step, raw in built.records:
        resolver = PathResolver(root=root, modules=modules, build_dir=step.module.dir)
        for record in normalize([raw], resolver, functions=sources.function_at):
            key = (record.path, record.line, record.column, record.message)
            if key not in seen:  # the compiler repeats some lines verbatim
                seen.add(key)
                records.append(record)
    for record in records:  # the worktree goes away: keep the files findings point at
        if record.in_repo:
            sources.read(record.path)
    return Analysis(records, sources)


class _SourceCache:
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


def run_diff(options: DiffOptions, *, progress: Progress | None = None) -> Report:
    """Compare merge-base(base, head) with head and classify every heap escape."""
    timer = Timer(progress)
    config = options.config
    with timer.phase("resolve revisions"):
        git = Git.discover(options.repo, env=options.env)
        revs = resolve_revisions(git, options.base, options.head)
        linemap = parse_diff(git.diff(revs.merge_base, revs.head.sha))
    notes = list(revs.notes)
    report = Report(
        revs.base, revs.head, revs.merge_base, (), packages=config.packages, notes=tuple(notes)
    )
    if not go_files_changed(linemap):
        notes.append("no Go files changed: nothing was built")
        return report._replace(notes=tuple(notes), timings=tuple(timer.phases))
    packages = _packages(git, revs, linemap, options, notes)
    if packages == frozenset():
        notes.append("no Go package to build" + (" in this shard" if options.shard else ""))
        return report._replace(notes=tuple(notes), timings=tuple(timer.phases))
    spec = BuildSpec(patterns=config.packages, tags=config.tags, env=options.env)
    with timer.phase("build"):
        version, base, head = _build_both(
            git, revs, spec, linemap, packages=packages, explain=options.explain
        )
    with timer.phase("compare"):
        findings = compare(base.records, head.records, linemap, key=identity)
        findings = [_attribute(f, linemap, head.sources) for f in findings]
        findings = [_verdict(f, config, head.sources, base.sources) for f in findings]
    return report._replace(
        findings=tuple(findings),
        go_version=version,
        timings=tuple(timer.phases),
        notes=tuple(notes),
    )


def _packages(
    git: Git, revs: Revisions, linemap: LineMap, options: DiffOptions, notes: list[str]
) -> frozenset[str] | None:
    """The package directories to build; None: every package the patterns select."""
    if options.all_packages and options.shard is None:
        return None
    if options.all_packages:
        dirs = package_dirs([*git.files(revs.merge_base), *git.files(revs.head.sha)])
    else:
        dirs = changed_packages(linemap)
    if options.shard is None:
        return dirs
    mine = frozenset(select_shard(sorted(dirs), options.shard))
    index, count = options.shard
    notes.append(f"shard {index}/{count}: {len(mine)} of {len(dirs)} packages")
    return mine


def _build_both(
    git: Git,
    revs: Revisions,
    spec: BuildSpec,
    linemap: LineMap,
    *,
    packages: frozenset[str] | None,
    explain: bool,
) -> tuple[str, Analysis, Analysis]:
    """The toolchain's version and both revisions, built side by side.

    Only the head needs -m=2: explanations are for findings, which are head records.
    The dependencies both builds share are compiled once, first.
    """
    head_spec = replace(spec, explain=explain, explain_where=_in_files(linemap.changed_paths))
    base_label = f"base revision {revs.merge_base[:12]}"
    head_label = f"head revision {revs.head.sha[:12]}"
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=3) as pool:
        version = pool.submit(go_version, spec.env, cwd=git.root)
        base_root = stack.enter_context(git.worktree(revs.merge_base, label="base"))
        head_root = stack.enter_context(git.worktree(revs.head.sha, label="head"))
        if packages:
            warm_dependencies(head_root, spec, packages)
        base = pool.submit(analyze, base_root, spec, label=base_label, packages=packages)
        head = pool.submit(analyze, head_root, head_spec, label=head_label, packages=packages)
        try:
            return version.result(), base.result(), head.result()
        except BaseException:
            # Ctrl-C or a failed build: stop the other build instead of waiting for it.
            stop_builds()
            raise


def _in_files(paths: Iterable[str]) -> Callable[[str, int], bool]:
    """Whether a position, as the compiler prints it, is in one of the repository's ``paths``.

    Findings can only be in changed files: only their explanations are worth keeping.
    With -trimpath the compiler prints module-path-based names, which end in the
    repository path's tail.
    """
    by_name: dict[str, list[str]] = {}
    for path in paths:
        by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)

    def wanted(printed: str, line: int) -> bool:
        candidates = by_name.get(printed.rsplit("/", 1)[-1], ())
        return any(printed == p or printed.endswith("/" + p) for p in candidates)

    return wanted


def _attribute(finding: Finding, linemap: LineMap, head: _SourceCache) -> Finding:
    """Blame an escape on an unchanged line on the change in its own function.

    The compiler reports ``moved to heap: x`` at x's declaration; when that line is
    unchanged but an added line of the same function takes x's address, that change
    is what makes x escape: the finding is new, anchored on the added line. The
    evidence is the -m=2 flow when there is one, else the variable's name on an
    added line of the function. Without evidence the finding stays indirect.
    """
    record = finding.record
    if finding.status is not Status.INDIRECT or not record.function:
        return finding
    function = _top_level(record.function)
    added = [
        line
        for line in sorted(linemap.added_lines(record.path))
        if head.function_at(record.path, line) == function
    ]
    cause = _cause(record, added, head.read(record.path))
    return finding._replace(status=Status.NEW, anchor=cause) if cause else finding


def _top_level(function: str) -> str:
    # -m=2 names closures after the compiler ("Keep.func#"); the source index knows "Keep".
    return function.split(".func", 1)[0]


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*\Z")


def _cause(record: EscapeRecord, added: Sequence[int], lines: Sequence[str]) -> int:
    if record.explanation:
        for step in record.explanation:
            _, sep, position = step.rpartition(" at ")
            path, _, rest = position.partition(":")
            line = rest.split(":", 1)[0]
            if sep and path == record.path and line.isdigit() and int(line) in added:
                return int(line)
        return 0
    if not _IDENTIFIER.match(record.expression):
        return 0
    word = re.compile(rf"\b{re.escape(record.expression)}\b")
    for number in added:
        if 0 < number <= len(lines) and word.search(lines[number - 1].split("//", 1)[0]):
            return number
    return 0


def _verdict(finding: Finding, config: Config, head: _SourceCache, base: _SourceCache) -> Finding:
    record = finding.record
    lines = (base if finding.status is Status.FIXED else head).read(record.path)
    source = lines[record.line - 1].strip() if 0 < record.line <= len(lines) else ""
    finding = finding._replace(source=source)
    if finding.status not in (Status.NEW, Status.INDIRECT):
        return finding
    ignored = config.ignores(record)
    if ignored:
        return finding._replace(status=Status.IGNORED, reason=ignored)
    reason = suppression(lines, record.line)
    if reason is not None:
        return finding._replace(
            status=Status.ACCEPTED, reason=reason or "//escape-guard:ignore comment"
        )
    accepted = config.accepts(record)
    if accepted:
        return finding._replace(status=Status.ACCEPTED, reason=accepted)
    return finding
