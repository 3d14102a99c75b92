"""Both revisions' heap records: built, by one go command or by one each, and normalized."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import NamedTuple

from escape_guard.builds.checkout import Tree, WorkingTree, checkout, in_place
from escape_guard.builds.compile import (
    FACT_KINDS,
    Builds,
    BuildSpec,
    RevisionBuild,
    Started,
    build_revision,
    go_command,
    kept_explanations,
    run_build,
    step_resolver,
    trimmed,
)
from escape_guard.builds.compiled import Compiled, side_of
from escape_guard.builds.facts import Declarations, declarations
from escape_guard.builds.modules import Module, Step, import_path, module_of_dir
from escape_guard.builds.together import Arrangement, arrange
from escape_guard.builds.toolchain import local_go
from escape_guard.diffmap import LineMap
from escape_guard.errors import BuildError
from escape_guard.git import Git
from escape_guard.model import EscapeRecord
from escape_guard.records.normalize import PathResolver, normalize
from escape_guard.sources import SourceCache
from escape_guard.tasks import Task


class Analysis(NamedTuple):
    """Normalized heap records of one revision and the source files they point at.

    With ``BuildSpec.facts``: the facts its importers compile against (``facts.py``), from
    the compiler and, for the directories asked for, from the sources.
    """

    records: list[EscapeRecord]
    sources: SourceCache
    facts: tuple[EscapeRecord, ...] = ()
    declared: Mapping[str, Declarations] = MappingProxyType({})  # by import path

    def merged(self, other: Analysis) -> Analysis:
        """Both analyses' records as one build of all their packages prints them."""
        seen = {_printed(r) for r in self.records}
        records = self.records + [r for r in other.records if _printed(r) not in seen]
        for path, lines in other.sources.lines.items():
            self.sources.lines.setdefault(path, lines)
        return Analysis(
            records, self.sources, self.facts + other.facts, {**other.declared, **self.declared}
        )


def _printed(record: EscapeRecord) -> tuple[str, int, int, str]:
    return (record.path, record.line, record.column, record.message)


def _for_main(record: EscapeRecord) -> bool:
    """Whether the record was printed by a compile of its package for a main package."""
    return " [" in record.package


def analyze(
    tree: Tree,
    spec: BuildSpec,
    *,
    label: str,
    side: str = "base",
    packages: frozenset[str] | None = None,
    builds: Builds | None = None,
    started: Started | None = None,
    after: Started | None = None,
    declared: Collection[str] = (),
) -> Analysis:
    """Build and normalize the revision ``tree`` shows (see ``build_revision``).

    ``declared``: directories whose declarations to read (``facts.declarations``).
    """
    built = build_revision(
        tree,
        spec,
        label=label,
        side=side,
        packages=packages,
        builds=builds,
        started=started,
        after=after,
    )
    return _normalized(tree, built, declared)


def _normalized(tree: Tree, built: RevisionBuild, declared: Collection[str] = ()) -> Analysis:
    sources = SourceCache(tree)
    records: list[EscapeRecord] = []
    facts: list[EscapeRecord] = []
    kept: dict[tuple[str, int, int, str], int] = {}  # printed as → index in records
    resolvers: dict[Step, PathResolver] = {}
    for step, raw in built.records:
        if step not in resolvers:
            resolvers[step] = step_resolver(tree, built.modules, step)
        for record in normalize([raw], resolvers[step], functions=sources.function_at):
            if record.kind in FACT_KINDS:
                facts.append(record)
                continue
            key = _printed(record)
            if key not in kept:
                kept[key] = len(records)
                records.append(record)
            elif _for_main(record) and not _for_main(records[kept[key]]):
                # The compiler repeats some lines, and a package compiled for a main with its
                # profile prints them again under "p [main]": that one says whose profile
                # applies (heat), whichever go printed first.
                records[kept[key]] = record
    for record in records:  # the revision's files go away: keep those findings point at
        if record.in_repo:
            sources.read(record.path)
    return Analysis(
        records, sources, tuple(facts), declared_packages(tree, built.modules, declared)
    )


def declared_packages(
    tree: Tree, modules: Sequence[Module], directories: Collection[str]
) -> dict[str, Declarations]:
    """The declarations of the packages in ``directories`` of ``tree``, by import path."""
    found: dict[str, Declarations] = {}
    for directory in directories:
        module = module_of_dir(directory, modules)
        if module is not None:
            path = import_path(module, directory[len(module.dir) :].lstrip("/"))
            found[path] = declarations(tree, directory)
    return found


class Ahead:
    """What threads work out while the main one reads the revisions and their diff."""

    def __init__(self, git: Git, scratch: str, env: Mapping[str, str]) -> None:
        self.scratch = scratch  # removed when the comparison is done
        self.work = Task(lambda: WorkingTree.inspect(git))
        self.local_go = local_go(git, env)  # the go on PATH, before the toolchain is chosen
        self.version = ""  # of the toolchain chosen for both revisions (builds/toolchain.py)
        self._trees: dict[str, Task[Tree | str]] = {}
        self.compiled = Compiled()  # what the comparison's go commands compiled

    def see(self, label: str, sha: str) -> None:
        """Start seeing revision ``sha`` in place (see ``checkout.in_place``)."""
        directory = os.path.join(self.scratch, label)
        os.mkdir(directory)
        self._trees[label] = Task(lambda: in_place(self.work.result(), sha, directory))

    def seen(self, label: str) -> Tree | str:
        return self._trees[label].result()

    def join(self) -> None:
        self.work.join()
        self.local_go.join()
        for task in self._trees.values():
            task.join()


def build_both(
    ahead: Ahead,
    spec: BuildSpec,
    linemap: LineMap,
    *,
    base: str,
    head: str,
    packages: frozenset[str] | None,
    explain: bool,
    notes: list[str],
    declared: frozenset[str] = frozenset(),
    head_name: str = "",
) -> tuple[str, Analysis, Analysis]:
    """The toolchain's version and the analyses of revisions ``base`` and ``head`` (SHAs).

    One go command builds both when it can (see together.py), else each has its own. Only
    the head needs -m=2: explanations are for findings, which are head records.
    ``declared``: directories whose declarations both analyses read (``facts.declarations``).
    ``head_name``: how messages name the head (the working tree is no commit to look up).
    """
    head_spec = replace(spec, explain=explain, explain_where=_in_files(linemap.changed_paths))
    work = ahead.work.result()
    job = _Job(work, base, head, spec, head_spec, packages, declared, head_name)
    built = None
    if packages is not None and work.usable:
        built = _build_together(job, ahead, packages, linemap, notes)
    analyses = built or _build_apart(job, ahead, notes)
    return ahead.version, *analyses


class _Job(NamedTuple):
    """What the builds of both revisions start from."""

    work: WorkingTree
    base: str  # SHA
    head: str
    spec: BuildSpec  # the base's
    head_spec: BuildSpec
    packages: frozenset[str] | None
    declared: frozenset[str]
    head_name: str


def _build_together(
    job: _Job, ahead: Ahead, packages: frozenset[str], linemap: LineMap, notes: list[str]
) -> tuple[Analysis, Analysis] | None:
    """Both revisions from one go command per module; None when they must be built apart."""
    changed = linemap.touched_paths
    base, head = ahead.seen("base"), ahead.seen("head")
    if isinstance(base, str) or isinstance(head, str):
        return None  # a revision needs a worktree
    if job.work.profiles:
        return None  # the copies of main packages would be built without their profiles
    scratch = tempfile.mkdtemp(prefix="together-", dir=ahead.scratch)
    arranged = arrange(
        base,
        head,
        patterns=job.spec.patterns,
        packages=packages,
        changed=changed,
        scratch=scratch,
        target=job.spec.target,
    )
    if isinstance(arranged, str):
        return None
    try:
        base_build, head_build = _run_together(arranged, base, head, job, ahead.compiled)
    except BuildError:
        # Built apart, the failing revision is named; should both build, say so.
        notes.append("the revisions could not be built by one go command: built apart")
        return None
    return _normalized(base, base_build, job.declared), _normalized(head, head_build, job.declared)


def _run_together(
    arranged: Arrangement, base: Tree, head: Tree, job: _Job, compiled: Compiled
) -> tuple[RevisionBuild, RevisionBuild]:
    """Run the arrangement's go commands; the records of each revision as a build of its own."""
    copies, modules = arranged.copies, arranged.modules
    base_records: list[tuple[Step, EscapeRecord]] = []
    head_records: list[tuple[Step, EscapeRecord]] = []
    builds = Builds(compiled)
    base_side = side_of("base", modules)

    def side(path: str) -> str:
        return "head" if copies.holds(path) else base_side(path)

    try:
        for step in arranged.steps:
            cmd = go_command(
                job.spec,
                step.patterns,
                modules=[m.path for m in modules],
                overlay=arranged.overlay,
                explained=arranged.explained if job.head_spec.explain else (),
                trimpath=trimmed(base),
            )
            explain = kept_explanations(job.head_spec, head, step, modules, copies.original)
            label = "base and head revisions"
            for record in run_build(
                cmd,
                base,
                step,
                job.spec,
                builds=builds,
                explain=explain,
                label=label,
                modules=modules,
                side=side,
            ):
                if copies.is_head(record):
                    head_records.append((step, copies.head_record(record)))
                else:
                    base_records.append((step, record))
    except BaseException:
        builds.stop()  # Ctrl-C: nothing goes on
        raise
    return (
        RevisionBuild(tuple(base_records), modules),
        RevisionBuild(tuple(head_records), modules),
    )


def _build_apart(job: _Job, ahead: Ahead, notes: list[str]) -> tuple[Analysis, Analysis]:
    """Both revisions, each by its own go commands, with their compilations overlapping.

    The base is built first, compiling the dependencies both revisions share; the head's
    go command for a module starts once the base's for that module has started compiling
    the packages themselves (at once when they import only the standard library), so it
    finds those dependencies in the cache and loads while the base compiles. In a
    repository of several modules, the head's first module is compiled beside the base's
    next one.
    """
    work, base_sha, head_sha, spec, head_spec, packages, declared, head_name = job
    base_label = f"base revision {base_sha[:12]}"
    head_label = f"head revision, {head_name}," if head_name else f"head revision {head_sha[:12]}"
    builds = Builds(ahead.compiled)
    base_started = Started()

    def build(sha: str, label: str, how: BuildSpec, *, head: bool) -> Analysis:
        # Each revision's files last as long as its analysis, which keeps what it needs.
        seen = ahead.seen("head" if head else "base")
        with checkout(work, sha, label="head" if head else "base", seen=seen) as tree:
            if tree.why:
                notes.append(f"the {label} was checked out into a worktree: {tree.why}")
            return analyze(
                tree,
                how,
                label=label,
                side="head" if head else "base",
                packages=packages,
                builds=builds,
                started=None if head else base_started,
                after=base_started if head else None,
                declared=declared,
            )

    base = Task(lambda: build(base_sha, base_label, spec, head=False))
    head = Task(lambda: build(head_sha, head_label, head_spec, head=True))
    try:
        return base.result(), head.result()
    except BaseException:
        # Ctrl-C or a failed build: stop the other build instead of waiting for it.
        builds.stop()
        base_started.ended()
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
