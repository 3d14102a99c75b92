"""The comparison from revisions to a Report: the engine behind ``diff`` and ``action``."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from escape_guard.build import (
    Builds,
    BuildSpec,
    RevisionBuild,
    build_revision,
    go_command,
    go_version,
    kept_explanations,
    run_build,
    step_resolver,
)
from escape_guard.checkout import Tree, WorkingTree, checkout, in_place
from escape_guard.compare import compare
from escape_guard.config import Config
from escape_guard.diffmap import (
    LineMap,
    changed_packages,
    go_files_changed,
    package_dirs,
    parse_diff,
)
from escape_guard.errors import BuildError, GitError
from escape_guard.git import Git
from escape_guard.merge import select_shard
from escape_guard.model import EscapeRecord, Report, Revision
from escape_guard.modules import Step
from escape_guard.normalize import identity, normalize
from escape_guard.sources import SourceCache
from escape_guard.tasks import Task
from escape_guard.together import arrange
from escape_guard.verdict import attribute, verdict


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
    snapshot = git.snapshot() if head is None else None
    if snapshot:
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
        head_rev, base_rev = Revision("working tree", snapshot), Revision(base, git.resolve(base))
    else:
        head_ref = head or "HEAD"
        head_sha, base_sha = git.resolve_all(head_ref, base)
        head_rev, base_rev = Revision(head_ref, head_sha), Revision(base, base_sha)
    merge_base = git.merge_base(base_rev.sha, head_rev.sha)
    if merge_base is None:
        shallow = " (this clone is shallow: fetch more history)" if git.is_shallow() else ""
        raise GitError(f"{base} and {head_rev.ref} have no common ancestor{shallow}")
    return Revisions(base_rev, head_rev, merge_base, tuple(notes))


class Analysis(NamedTuple):
    """Normalized heap records of one revision and the source files they point at."""

    records: list[EscapeRecord]
    sources: SourceCache


def analyze(
    tree: Tree,
    spec: BuildSpec,
    *,
    label: str,
    packages: frozenset[str] | None = None,
    builds: Builds | None = None,
    compiling: Callable[[], None] | None = None,
) -> Analysis:
    """Build and normalize the revision ``tree`` shows (see ``build_revision``)."""
    built = build_revision(
        tree, spec, label=label, packages=packages, builds=builds, compiling=compiling
    )
    return _normalized(tree, built)


def _normalized(tree: Tree, built: RevisionBuild) -> Analysis:
    sources = SourceCache(tree)
    records: list[EscapeRecord] = []
    seen: set[tuple[str, int, int, str]] = set()
    for step, raw in built.records:
        resolver = step_resolver(tree, built.modules, step)
        for record in normalize([raw], resolver, functions=sources.function_at):
            key = (record.path, record.line, record.column, record.message)
            if key not in seen:  # the compiler repeats some lines verbatim
                seen.add(key)
                records.append(record)
    for record in records:  # the revision's files go away: keep those findings point at
        if record.in_repo:
            sources.read(record.path)
    return Analysis(records, sources)


def run_diff(
    options: DiffOptions, *, git: Git | None = None, progress: Progress | None = None
) -> Report:
    """Compare merge-base(base, head) with head and classify every heap escape.

    ``git``: the repository of ``options.repo`` when the caller has found it already.
    """
    found = git or Git.discover(options.repo, env=options.env)
    with tempfile.TemporaryDirectory(prefix="escape-guard-") as scratch:
        ahead = _Ahead(found, scratch)
        try:
            return _run_diff(options, found, ahead, Timer(progress))
        finally:
            ahead.join()


class _Ahead:
    """What threads work out while the main one reads the revisions and their diff."""

    def __init__(self, git: Git, scratch: str) -> None:
        self.scratch = scratch  # removed when the comparison is done
        self.work = Task(lambda: WorkingTree.inspect(git))
        self._trees: dict[str, Task[Tree | str]] = {}

    def see(self, label: str, sha: str) -> None:
        """Start seeing revision ``sha`` in place (see ``checkout.in_place``)."""
        directory = os.path.join(self.scratch, label)
        os.mkdir(directory)
        self._trees[label] = Task(lambda: in_place(self.work.result(), sha, directory))

    def seen(self, label: str) -> Tree | str:
        return self._trees[label].result()

    def join(self) -> None:
        self.work.join()
        for task in self._trees.values():
            task.join()


def _run_diff(options: DiffOptions, git: Git, ahead: _Ahead, timer: Timer) -> Report:
    config = options.config
    with timer.phase("resolve revisions"):
        revs = resolve_revisions(git, options.base, options.head)
        ahead.see("base", revs.merge_base)
        ahead.see("head", revs.head.sha)
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
            ahead,
            revs,
            spec,
            linemap,
            packages=packages,
            explain=options.explain,
            notes=notes,
        )
    with timer.phase("compare"):
        findings = compare(base.records, head.records, linemap, key=identity)
        findings = [attribute(f, linemap, head.sources) for f in findings]
        findings = [verdict(f, config, head.sources, base.sources) for f in findings]
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
    ahead: _Ahead,
    revs: Revisions,
    spec: BuildSpec,
    linemap: LineMap,
    *,
    packages: frozenset[str] | None,
    explain: bool,
    notes: list[str],
) -> tuple[str, Analysis, Analysis]:
    """The toolchain's version and both revisions' analyses.

    One go command builds both when it can (see together.py), else each has its own. Only
    the head needs -m=2: explanations are for findings, which are head records.
    """
    head_spec = replace(spec, explain=explain, explain_where=_in_files(linemap.changed_paths))
    work = ahead.work.result()
    job = _Job(work, revs, spec, head_spec, packages)
    version = Task(lambda: go_version(spec.env, cwd=work.git.root))
    try:
        built = None
        if packages is not None and work.usable:
            built = _build_together(job, ahead, packages, linemap, notes)
        base, head = built or _build_apart(job, ahead, notes)
        return version.result(), base, head
    finally:
        version.join()


class _Job(NamedTuple):
    """What the builds of both revisions start from."""

    work: WorkingTree
    revs: Revisions
    spec: BuildSpec  # the base's
    head_spec: BuildSpec
    packages: frozenset[str] | None


def _build_together(
    job: _Job, ahead: _Ahead, packages: frozenset[str], linemap: LineMap, notes: list[str]
) -> tuple[Analysis, Analysis] | None:
    """Both revisions from one go command per module; None when they must be built apart."""
    _, _, spec, head_spec, _ = job
    changed = [p for f in linemap.files for p in (f.old_path, f.new_path) if p]
    base, head = ahead.seen("base"), ahead.seen("head")
    if isinstance(base, str) or isinstance(head, str):
        return None  # a revision needs a worktree
    scratch = os.path.join(ahead.scratch, "together")
    os.mkdir(scratch)
    arranged = arrange(
        base, head, patterns=spec.patterns, packages=packages, changed=changed, scratch=scratch
    )
    if isinstance(arranged, str):
        return None
    copies, modules = arranged.copies, arranged.modules
    builds = Builds()
    base_records: list[tuple[Step, EscapeRecord]] = []
    head_records: list[tuple[Step, EscapeRecord]] = []
    try:
        for step in arranged.steps:
            cmd = go_command(
                spec,
                step.patterns,
                modules=[m.path for m in modules],
                overlay=arranged.overlay,
                explained=arranged.explained if head_spec.explain else (),
            )
            explain = kept_explanations(head_spec, head, step, modules, copies.original)
            label = "base and head revisions"
            for record in run_build(
                cmd, base, step, spec, builds=builds, explain=explain, label=label
            ):
                if copies.is_head(record):
                    head_records.append((step, copies.head_record(record)))
                else:
                    base_records.append((step, record))
    except BuildError:
        # Built apart, the failing revision is named; should both build, say so.
        notes.append("the revisions could not be built by one go command: built apart")
        return None
    except BaseException:
        builds.stop()
        raise
    return (
        _normalized(base, RevisionBuild(tuple(base_records), modules)),
        _normalized(head, RevisionBuild(tuple(head_records), modules)),
    )


def _build_apart(job: _Job, ahead: _Ahead, notes: list[str]) -> tuple[Analysis, Analysis]:
    """Both revisions, each by its own go commands, with their compilations overlapping.

    The base is built first, compiling the dependencies both revisions share; the head
    starts once the base has started compiling the packages themselves (at once when
    they import only the standard library), so it finds those dependencies in the cache
    and its go command loads while the base compiles.
    """
    work, revs, spec, head_spec, packages = job
    base_label = f"base revision {revs.merge_base[:12]}"
    head_label = f"head revision {revs.head.sha[:12]}"
    builds = Builds()
    base_compiling = threading.Event()

    def build(sha: str, label: str, how: BuildSpec, *, head: bool) -> Analysis:
        # Each revision's files last as long as its analysis, which keeps what it needs.
        seen = ahead.seen("head" if head else "base")
        with checkout(work, sha, label="head" if head else "base", seen=seen) as tree:
            if tree.why:
                notes.append(f"the {label} was checked out into a worktree: {tree.why}")
            if head:
                base_compiling.wait()
            told = None if head else base_compiling.set
            return analyze(tree, how, label=label, packages=packages, builds=builds, compiling=told)

    base = Task(lambda: build(revs.merge_base, base_label, spec, head=False))
    head = Task(lambda: build(revs.head.sha, head_label, head_spec, head=True))
    try:
        return base.result(), head.result()
    except BaseException:
        # Ctrl-C or a failed build: stop the other build instead of waiting for it.
        builds.stop()
        base_compiling.set()
        raise
    finally:
        for task in (base, head):  # their worktrees are removed before we return
            task.join()


def _in_files(paths: Iterable[str]) -> Callable[[str, int], bool]:
    """Whether a position is in one of the repository's ``paths``.

    Findings can only be in changed files: only their explanations are worth keeping.
    """
    wanted = frozenset(paths)
    return lambda path, _line: path in wanted
