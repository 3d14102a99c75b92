"""The comparison from revisions to a Report: the engine behind ``diff`` and ``action``."""

from __future__ import annotations

import os
import posixpath
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from escape_guard.builds.analysis import Ahead
from escape_guard.builds.compile import BuildSpec
from escape_guard.builds.constraints import Platform, excluded_by, platform_of
from escape_guard.builds.modules import Module, module_dirs, module_path, unmatched
from escape_guard.builds.reach import Revisions as BuildRevisions
from escape_guard.builds.reach import build_reached, reaches_beyond
from escape_guard.builds.toolchain import Library, read_toolchain, select_toolchain
from escape_guard.config import Config
from escape_guard.diffmap import (
    LineMap,
    changed_packages,
    go_files_changed,
    nothing_built_note,
    package_dirs,
    parse_diff,
)
from escape_guard.errors import GitError, UsageError
from escape_guard.git import Git
from escape_guard.globs import matches
from escape_guard.heat.apply import heat_notes
from escape_guard.heat.locate import SEARCHED, add_heat, heat_source
from escape_guard.judgement.compare import compare
from escape_guard.judgement.merge import select_shard
from escape_guard.judgement.verdict import attribute, directive_notes, verdict
from escape_guard.model import NotAnalysed, Report, Revision
from escape_guard.outside import Side, place
from escape_guard.platforms import merge_platforms
from escape_guard.records.normalize import identity
from escape_guard.tasks import Task


@dataclass(frozen=True)
class DiffOptions:
    repo: str = "."
    base: str = "main"
    head: str | None = None  # None: HEAD, or the working tree when it has changes
    config: Config = field(default_factory=Config)
    explain: bool = False
    all_packages: bool = False  # build every selected package, not only the changed ones
    shard: tuple[int, int] | None = None  # (K, N): build only the K-th of N shares
    pgo: str = "auto"  # as go build -pgo: auto, off, or a profile (relative to the repository)
    platforms: tuple[str, ...] = ()  # GOOS/GOARCH pairs to build for; (): the environment's
    profile: str = ""  # --profile: the CPU profile findings' heat is read from; "": default.pgo
    min_heat: float | None = None  # --min-heat PERCENT: colder new escapes do not fail
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Build (every package, with all_packages) even when no Go file changed: a count of the
    # repository's escapes (a badge) needs the head's records, which the shortcut skips.
    count_all: bool = False


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
    snapshot = git.snapshot() if head is None else None
    head_ref = head or "HEAD"
    head_sha, base_sha = git.resolve_all(head_ref, base)
    head_rev, base_rev = Revision(head_ref, head_sha), Revision(base, base_sha)
    notes = _working_tree_notes(git, head_rev, snapshot) if head is None else []
    if snapshot:
        head_rev = Revision("working tree", snapshot, on=head_sha)
    merge_base = git.merge_base(base_rev.sha, head_rev.sha)
    if merge_base is None:
        shallow = " (this clone is shallow: fetch more history)" if git.is_shallow() else ""
        raise GitError(f"{base} and {head_rev.describe()} have no common ancestor{shallow}")
    return Revisions(base_rev, head_rev, merge_base, tuple(notes))


def _working_tree_notes(git: Git, commit: Revision, snapshot: str | None) -> list[str]:
    """What was compared as the head when the user did not name one."""
    notes = []
    if snapshot:
        tree = Revision("working tree", snapshot, on=commit.sha).describe()
        notes.append(
            f"comparing {tree} as the head, including changes to tracked files "
            "(pass --head HEAD to compare commits only)"
        )
    untracked = git.untracked("*.go")
    files = f"{len(untracked)} untracked .go file(s) (e.g. {untracked[0]})" if untracked else ""
    if untracked and snapshot:
        notes.append(f"{files} are not part of the comparison; git add them to include them")
    elif untracked:
        notes.append(
            f"the working tree has no changes to tracked files, only {files}, which are not "
            f"compared: the head is the commit {commit.describe()}; git add them to include them"
        )
    return notes


def run_diff(
    options: DiffOptions, *, git: Git | None = None, progress: Progress | None = None
) -> Report:
    """Compare merge-base(base, head) with head and classify every heap escape.

    ``git``: the repository of ``options.repo`` when the caller has found it already.
    """
    found = git or Git.discover(options.repo, env=options.env)
    if len(options.platforms) > 1:
        return merge_platforms([
            (name, run_diff(replace(options, platforms=(name,)), git=found, progress=progress))
            for name in options.platforms
        ])  # fmt: skip
    if options.platforms:
        goos, _, goarch = options.platforms[0].partition("/")
        options = replace(options, env={**options.env, "GOOS": goos, "GOARCH": goarch})
    with tempfile.TemporaryDirectory(prefix="escape-guard-") as scratch:
        ahead = Ahead(found, scratch, options.env)
        try:
            return _run_diff(options, found, ahead, Timer(progress))
        finally:
            ahead.join()


def _run_diff(options: DiffOptions, git: Git, ahead: Ahead, timer: Timer) -> Report:
    config = options.config
    with timer.phase("resolve revisions"):
        revs = resolve_revisions(git, options.base, options.head)
        ahead.see("base", revs.merge_base)
        ahead.see("head", revs.head.sha)
        # One toolchain, the head's, for both revisions (see builds/toolchain.py).
        toolchain = Task(
            lambda: read_toolchain(
                git,
                base=revs.merge_base,
                head=revs.head.sha,
                env=options.env,
                local=ahead.local_go,
            )
        )
        linemap = parse_diff(git.diff(revs.merge_base, revs.head.sha))
    if config.packages != ("./...",):  # "./..." matches nothing only where nothing is
        _check_patterns(git, revs, config.packages)
    notes = list(revs.notes)
    report = Report(
        revs.base, revs.head, revs.merge_base, (), packages=config.packages, notes=tuple(notes)
    )
    if not go_files_changed(linemap) and not options.count_all:
        notes.append(nothing_built_note(linemap))
        return report._replace(notes=tuple(notes), timings=tuple(timer.phases))
    packages = _packages(git, revs, linemap, options, notes)
    if packages == frozenset() and not reaches_beyond(linemap):
        notes.append("no Go package to build" + (" in this shard" if options.shard else ""))
        return report._replace(notes=tuple(notes), timings=tuple(timer.phases))
    env, note, chosen = select_toolchain(toolchain.result(), options.env, cwd=git.root)
    notes += [note] if note else []
    ahead.version = chosen
    target = platform_of(env, tags=config.tags, version=chosen)
    notes += not_compiled(git, revs, linemap, target)
    spec = BuildSpec(
        patterns=config.packages,
        tags=config.tags,
        env=env,
        target=target,
        pgo=_profile(git, options.pgo),
    )
    source = heat_source(git, revs.head.sha, profile=options.profile, pgo=spec.pgo)
    not_analysed: list[NotAnalysed] = []
    with timer.phase("build"):
        version, base, head = build_reached(
            ahead,
            spec,
            linemap,
            BuildRevisions(
                revs.merge_base, revs.head.sha, revs.head.describe() if revs.head.on else ""
            ),
            packages=packages,
            explain=options.explain,
            notes=notes,
            not_analysed=not_analysed,
        )
    with timer.phase("compare"):
        findings = compare(base.records, [*head.records, *head.facts], linemap, key=identity)
        findings, placed = place(
            findings,
            linemap,
            head=Side([*head.records, *head.facts], head.sources),
            base=Side([*base.records, *base.facts], base.sources),
            library=Library(env, cwd=git.root),
        )
        notes.extend(placed)
        findings = [attribute(f, linemap, head.sources, base.sources) for f in findings]
        findings = [verdict(f, config, head.sources, base.sources) for f in findings]
        notes.extend(directive_notes(findings, head.sources))
        notes.extend(_all_ignored(linemap, config))
    with timer.phase("heat"):
        findings, profiles = add_heat(findings, git, revs.head.sha, source, env=env)
    report = report._replace(
        findings=tuple(findings), profiles=tuple(profiles), min_heat=options.min_heat
    )
    notes.extend(heat_notes(report, searched=SEARCHED))
    return report._replace(
        go_version=version,
        timings=tuple(timer.phases),
        notes=tuple(notes),
        not_analysed=tuple(not_analysed),
        compiled=ahead.compiled.counts(),
    )


def not_compiled(git: Git, revs: Revisions, linemap: LineMap, target: Platform) -> list[str]:
    """Notes naming the changed Go files the build for ``target`` never compiles."""
    wanted: dict[str, str] = {}  # "<sha>:<path>" → path
    for change in linemap.files:
        path = change.new_path or change.old_path
        sha = revs.head.sha if change.new_path else revs.merge_base
        if path and package_dirs([path]):
            wanted[f"{sha}:{path}"] = path
    texts = git.blobs(wanted)
    notes: list[str] = []
    for spec, path in wanted.items():
        text = texts[spec].decode("utf-8", "replace")
        why = excluded_by(posixpath.basename(path), text, target)
        if why:
            tags = f" with tags {','.join(sorted(target.tags))}" if target.tags else ""
            notes.append(f"not analysed: `{path}` {why} (built for {target.name}{tags})")
    return notes


def _all_ignored(linemap: LineMap, config: Config) -> list[str]:
    """A note when the configuration's ``ignore`` hides every changed Go file."""
    changed = sorted(
        p for f in linemap.files if (p := f.new_path) and p.endswith(".go") and package_dirs([p])
    )
    if not changed or not config.ignore:
        return []
    if not all(any(matches(p, pattern) for pattern in config.ignore) for p in changed):
        return []
    patterns = ", ".join(f"`{p}`" for p in config.ignore)
    where = config.source or "the configuration"
    return [
        f"every changed Go file matches an ignore pattern of {where} ({patterns}): "
        "escapes in them are never reported"
    ]


def _check_patterns(git: Git, revs: Revisions, patterns: tuple[str, ...]) -> None:
    """Raise a UsageError naming a package pattern that selects no package at either revision."""
    modules: dict[str, Module] = {}
    directories: set[str] = set()
    for sha in (revs.merge_base, revs.head.sha):
        files = git.files(sha)
        directories |= package_dirs(files)
        wanted = {f"{sha}:{d}/go.mod" if d else f"{sha}:go.mod": d for d in module_dirs(files)}
        for spec, text in git.blobs(wanted).items():
            path = module_path(text.decode("utf-8", "replace"))
            if path:
                modules.setdefault(wanted[spec], Module(path, wanted[spec]))
    missing = unmatched(patterns, directories, list(modules.values()))
    if missing:
        raise UsageError(
            f"package pattern {missing[0]!r} (from --packages, the packages input or the "
            "configuration file) matches no Go package at the base or the head: patterns are "
            "relative to the repository root (./..., ./cmd/...) or import paths"
        )


def _profile(git: Git, pgo: str) -> str:
    """The -pgo value for the go command: ``auto``, ``off`` or an existing file's absolute path."""
    if pgo in ("auto", "off"):
        return pgo
    path = os.path.join(git.root, pgo)
    if not os.path.isfile(path):
        raise UsageError(f"--pgo {pgo}: no such file in {git.root} (use auto, off or a profile)")
    return os.path.abspath(path)


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
