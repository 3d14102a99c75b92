"""Compiling a revision with escape-analysis diagnostics.

A revision seen in place (the working tree and an overlay) is built as ``go build`` builds
it there, without ``-trimpath``: both revisions are in the same directory, so they share
cache entries, and so do they with what the user's own ``go build`` left in the cache (the
standard library and dependencies compiled the ordinary way). A revision checked out into a
worktree is built with ``-trimpath``: positions print as module-path-based names such as
``example.com/m/sub/sub.go:5:29`` wherever its files are, and its cache keys do not depend on
the worktree's directory (the cache replays diagnostics with the paths they were first
printed with).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from escape_guard.builds.checkout import Tree
from escape_guard.builds.compiled import Compiled, compiled_paths, named_by, side_of
from escape_guard.builds.constraints import Platform
from escape_guard.builds.modules import (
    Module,
    Step,
    find_modules,
    import_path,
    package_rel,
    plan,
    standard_library_only,
)
from escape_guard.errors import BuildError, EnvironmentProblem
from escape_guard.model import EscapeRecord, Kind
from escape_guard.proc import run
from escape_guard.records.heap import parse_heap
from escape_guard.records.normalize import PathResolver
from escape_guard.records.parse import parse_lines

# Words of escape-analysis diagnostics; other output lines may explain a failure.
_DIAGNOSTIC_MARKERS = (
    b"escapes to heap",
    b"moved to heap",
    b"leaking",
    b"does not escape",
    b"inlin",
    b":  ",
    b"devirtualiz",
    b"capturing by",
    b"bounds check",
    b"zero-copy",
)  # b":  " marks the indented flow lines of -m=2 explanations
_MAX_ERROR_LINES = 20
_BLOCK = 1 << 20  # bytes read from the compiler's output at a time
# The output is kept for the failure message: in memory up to this size, then in a file
# (`go build -gcflags=-m=2 std` prints 130 MB).
_KEEP_IN_MEMORY = 8 << 20
_GOGC = "400"
# Besides the heap facts: what importers compile against, and where calls were inlined (the
# comparison tells code moved into an inlined function from new code with it).
_FACTS = (b": leaking param", b": leaking closure", b": can inline ", b": inlining call to ")
FACT_KINDS = frozenset({Kind.LEAKING_PARAM, Kind.INLINING})
_NO_DWARF = "-dwarf=false"
_NEUTRAL_GOFLAGS = "-buildvcs=false"  # what every build passes anyway
_MOD_MOD = re.compile(r"(?:^|\s)--?mod=mod(?=\s|$)")


@dataclass(frozen=True)
class BuildSpec:
    """What to build and how; the same spec is used for both revisions."""

    patterns: tuple[str, ...] = ("./...",)
    tags: tuple[str, ...] = ()
    explain: bool = False
    # With explain: only explanations of positions (repository-relative path, line) it accepts.
    explain_where: Callable[[str, int], bool] | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Also keep the facts importers compile against: leak tags and inlinability (``facts``).
    facts: bool = False
    # What the go command builds for: packages with no file it compiles are not named.
    target: Platform | None = None
    # -pgo: "auto" (each main's default.pgo applies to what is built for it), "off", a file.
    pgo: str = "auto"


class RevisionBuild(NamedTuple):
    """Raw (not yet normalized) heap records of one revision, with the step that printed each."""

    records: tuple[tuple[Step, EscapeRecord], ...]
    modules: tuple[Module, ...]


def go_version(env: Mapping[str, str], *, cwd: str | None = None) -> str:
    """The version of the Go toolchain ``go`` on PATH resolves to (e.g. ``go1.27.3``)."""
    return run(["go", "env", "GOVERSION"], env=build_environment(env), cwd=cwd).stdout.strip()


def go_command(
    spec: BuildSpec,
    patterns: Sequence[str],
    *,
    modules: Sequence[str] = (),
    overlay: str | None = None,
    explained: Sequence[str] = (),
    trimpath: bool = True,
) -> list[str]:
    """``go build`` of ``patterns`` with escape-analysis diagnostics.

    ``modules``: the paths of the repository's modules, whose packages compile with -m
    whether named or not (see ``compiled.py``) and without debugging information: nothing
    reads it, and writing it takes about a twentieth of the compiler's time. The standard
    library and other dependencies keep their flags, and so their cache keys (a prebuilt
    standard library stays a cache hit).
    ``overlay``: the revision's -overlay file. -v prints the import path of every package
    as its compilation starts (cached packages are not compiled).
    ``explained``: import paths of packages among ``patterns`` built with -m=2 whatever
    ``spec.explain`` says. ``trimpath``: see ``trimmed``.
    """
    cmd = ["go", "build", *(["-trimpath"] if trimpath else []), "-buildvcs=false"]
    cmd += ["-o", os.devnull]
    if overlay:
        cmd.append("-overlay=" + overlay)
    cmd.append("-v")
    cmd += [f"-gcflags={path}/...=-m {_NO_DWARF}" for path in modules]
    # Without a pattern: the packages named on the command line (the last match wins).
    cmd.append(f"-gcflags={'-m=2' if spec.explain else '-m'} {_NO_DWARF}")
    cmd += [f"-gcflags={path}=-m=2 {_NO_DWARF}" for path in explained]
    if spec.tags:
        cmd.append("-tags=" + ",".join(spec.tags))
    if spec.pgo != "auto":
        cmd.append("-pgo=" + spec.pgo)
    return [*cmd, *patterns]


def build_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the go command: the user's, read-only, with a thriftier collector.

    The compiler allocates heavily; a heap goal of 5× the live heap instead of 2× takes
    a few percent off its time for a fifth more memory. A GOGC the user set is kept.
    ``-mod=mod`` is taken out of GOFLAGS (see ``readonly_goflags``).
    """
    result = {"GOGC": _GOGC, **env}
    goflags = result.get("GOFLAGS", "")
    if goflags.strip():
        # Set but empty, GOFLAGS would be read from go env -w's file: keep it set.
        result["GOFLAGS"] = readonly_goflags(goflags) or _NEUTRAL_GOFLAGS
    return result


def readonly_goflags(goflags: str) -> str:
    """GOFLAGS without ``-mod=mod``, which lets a build rewrite go.mod and go.sum.

    The go command's default is then what applies: read-only, or vendor mode when the
    module has a consistent vendor directory (go 1.14 and later). ``-mod=vendor`` and
    ``-mod=readonly`` stay. With ``-mod=mod`` a go.mod without a ``go`` line is even
    rewritten, which fails when -overlay supplies that go.mod (a base revision's).
    """
    return _MOD_MOD.sub("", goflags).strip()


class Builds:
    """The go commands of one comparison, so that all of them can be stopped at once."""

    def __init__(self, compiled: Compiled | None = None) -> None:
        self.compiled = compiled or Compiled()  # what they compiled, by revision
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def stop(self) -> None:
        """Terminate every go command still running and refuse to start more (on Ctrl-C)."""
        with self._lock:
            self._stopped = True
            for proc in self._running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # go and the compilers it started

    @contextlib.contextmanager
    def start(
        self, cmd: Sequence[str], *, cwd: str, env: Mapping[str, str]
    ) -> Iterator[subprocess.Popen[bytes]]:
        """Run a go command, its output (stderr) piped; it is waited for afterwards."""
        with self._lock:
            if self._stopped:
                raise BuildCancelled
            try:
                proc = subprocess.Popen(
                    list(cmd),
                    cwd=cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    # Its own process group, so stop() ends go and every compiler it runs.
                    start_new_session=True,
                )
            except FileNotFoundError as exc:
                raise EnvironmentProblem("go is not installed or not on PATH") from exc
            self._running.add(proc)
        try:
            with proc:
                yield proc
        finally:
            with self._lock:
                self._running.discard(proc)


class BuildCancelled(Exception):
    """A build was not started because the comparison is being stopped."""


def build_revision(
    tree: Tree,
    spec: BuildSpec,
    *,
    label: str,
    side: str = "base",
    packages: Collection[str] | None = None,
    builds: Builds | None = None,
    started: Started | None = None,
    after: Started | None = None,
) -> RevisionBuild:
    """Build the requested packages of the revision ``tree`` shows: one go command per module.

    ``side``: which revision it is, "base" or "head" (``compiled.SIDES``).
    ``packages``: only these repository-relative directories (see ``plan``).
    ``started``: told of each module once its go command has started compiling every
    requested package (so their dependencies are in the cache), at its start when they
    import only the standard library, or when it ends; and when the build ends.
    ``after``: another revision's ``started``: each module's go command waits for that
    revision's to have started compiling its packages.
    Raises BuildError naming the revision and showing the first compiler errors.
    """
    modules = find_modules(tree)
    steps = plan(tree, modules, spec.patterns, packages=packages, target=spec.target)
    records: list[tuple[Step, EscapeRecord]] = []
    builds = builds or Builds()
    try:
        for step in steps:
            if after:
                after.wait(step.module.dir)
            told = _Once(functools.partial(started.module, step.module.dir) if started else None)
            watch = None
            if started and packages is not None:
                if standard_library_only(tree, step, modules):
                    told()  # no dependency of the module's to compile first
                else:
                    watch = told
            try:
                for record in _build_step(
                    tree, step, spec, modules, builds=builds, label=label, side=side,
                    compiling=watch,
                ):  # fmt: skip
                    records.append((step, record))
            finally:
                told()
    finally:
        if started:
            started.ended()
    return RevisionBuild(tuple(records), tuple(modules))


class Started:
    """Which modules' go commands of one revision have started compiling the packages they
    name, for the other revision's go commands to wait for (see ``build_revision``)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._modules: set[str] = set()
        self._ended = False

    def module(self, directory: str) -> None:
        with self._changed:
            self._modules.add(directory)
            self._changed.notify_all()

    def ended(self) -> None:
        """The revision's build ended, or failed: nothing is left to wait for."""
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def wait(self, directory: str) -> None:
        """Until the module's go command has started compiling, or the build ended."""
        with self._changed:
            self._changed.wait_for(lambda: self._ended or directory in self._modules)


def _build_step(
    tree: Tree,
    step: Step,
    spec: BuildSpec,
    modules: Sequence[Module],
    *,
    builds: Builds,
    label: str,
    side: str,
    compiling: Callable[[], None] | None,
) -> list[EscapeRecord]:
    cmd = go_command(
        spec,
        step.patterns,
        modules=[m.path for m in modules],
        overlay=tree.overlay,
        trimpath=trimmed(tree),
    )
    watch = _Announcements(_import_paths(step), compiling) if compiling else None
    explain = kept_explanations(spec, tree, step, modules)
    return run_build(
        cmd,
        tree,
        step,
        spec,
        builds=builds,
        explain=explain,
        label=label,
        modules=modules,
        side=side_of(side, modules),
        watch=watch,
    )


def run_build(
    cmd: Sequence[str],
    tree: Tree,
    step: Step,
    spec: BuildSpec,
    *,
    builds: Builds,
    explain: bool | Callable[[str, int], bool],
    label: str,
    modules: Sequence[Module],
    side: Callable[[str], str],
    watch: _Announcements | None = None,
) -> list[EscapeRecord]:
    """Run one step's go command; the heap records it printed for the packages it names,
    streamed through the parser.

    ``explain``: which explanations to keep (see ``parse_heap``). ``label`` names what is
    built in the BuildError a failure raises. ``side``: which revision a package the go
    command compiles is for (``compiled.SIDES``), counted in ``builds.compiled``.
    """
    cwd = os.path.join(tree.root, step.module.dir)
    env = build_environment(spec.env)
    named = named_by(step, modules)
    with builds.start(cmd, cwd=cwd, env=env) as proc:
        assert proc.stderr is not None
        with tempfile.SpooledTemporaryFile(_KEEP_IN_MEMORY) as output:
            heap = list(parse_heap(_blocks(proc.stderr, output, watch), explain=explain))
            code = proc.wait()
            if code == 0:
                builds.compiled.add(compiled_paths(output), side)
                found = heap + _fact_records(output, named) if spec.facts else heap
                return [record for record in found if named(record.package)]
            errors = _first_errors(output)
    where = f" in module {step.module.dir}" if step.module.dir else ""
    shown = "\n".join(f"  {line}" for line in errors) or "  (the go command printed nothing)"
    hint = _readonly_hint(spec.env, errors)
    raise BuildError(f"the {label} does not build{where} (go build exited {code}):\n{shown}{hint}")


def _readonly_hint(env: Mapping[str, str], errors: Sequence[str]) -> str:
    """Why a build that -mod=mod would have repaired fails: the flag is not used."""
    goflags = env.get("GOFLAGS", "")
    if readonly_goflags(goflags) == goflags.strip():
        return ""
    if not any("go.mod" in line or "go.sum" in line for line in errors):
        return ""
    return (
        "\n(GOFLAGS -mod=mod is not used: escape-guard never modifies go.mod or go.sum, "
        "so a revision builds as `go build` builds it with -mod=readonly; `go mod tidy` fixes that)"
    )


def trimmed(tree: Tree) -> bool:
    """Whether the revision ``tree`` shows is built with ``-trimpath``: when it is not in place."""
    return tree.how != "in place"


def step_resolver(tree: Tree, modules: Sequence[Module], step: Step) -> PathResolver:
    """Maps the paths one step's go command prints to repository paths."""
    return PathResolver(
        root=tree.root,
        modules={m.path: m.dir for m in modules},
        build_dir=step.module.dir,
        trimpath=trimmed(tree),
    )


def kept_explanations(
    spec: BuildSpec,
    tree: Tree,
    step: Step,
    modules: Sequence[Module],
    printed_as: Callable[[str], str] = str,
) -> bool | Callable[[str, int], bool]:
    """Which explanations the parser keeps: all, none, or those ``explain_where`` accepts.

    ``printed_as``: the path a printed one stands for, when the build prints others.
    """
    where = spec.explain_where
    if not spec.explain or where is None:
        return spec.explain
    resolver = step_resolver(tree, modules, step)
    resolved: dict[str, tuple[str, bool]] = {}

    def wanted(printed: str, line: int) -> bool:
        if printed not in resolved:
            resolved[printed] = resolver.resolve(printed_as(printed))
        path, in_repo = resolved[printed]
        return in_repo and where(path, line)

    return wanted


def _import_paths(step: Step) -> set[bytes]:
    """The import paths of a step's packages, as -v prints them."""
    return {import_path(step.module, package_rel(local)).encode() for local in step.patterns}


class _Announcements:
    """Watches -v output until every package of a set has started compiling."""

    def __init__(self, packages: set[bytes], done: Callable[[], None]) -> None:
        self._waiting = packages
        self._done = done
        self._tail = b""

    def feed(self, block: bytes) -> None:
        if not self._waiting:
            return
        *lines, self._tail = (self._tail + block).split(b"\n")
        self._waiting.difference_update(lines)
        if not self._waiting:
            self._done()


class _Once:
    def __init__(self, call: Callable[[], None] | None) -> None:
        self._call = call

    def __call__(self) -> None:
        call, self._call = self._call, None
        if call:
            call()


def _blocks(stream: IO[bytes], copy: IO[bytes], watch: _Announcements | None) -> Iterator[bytes]:
    """The stream's bytes as they arrive, also written to ``copy`` and shown to ``watch``."""
    while block := os.read(stream.fileno(), _BLOCK):
        copy.write(block)
        if watch:
            watch.feed(block)
        yield block


def _fact_records(output: IO[bytes], named: Callable[[str], bool]) -> list[EscapeRecord]:
    """The ``leaking param``, ``can inline`` and ``inlining call to`` records of the output,
    of the packages ``named`` accepts (a dependency's, compiled with -m too, are not read)."""
    output.seek(0)

    def kept() -> Iterator[bytes]:
        wanted = True
        for line in output:
            if line.startswith(b"#"):
                wanted = named(line[1:].decode("utf-8", "replace").strip())
                yield line
            elif wanted and any(marker in line for marker in _FACTS):
                yield line

    return [r for r in parse_lines(kept(), explanations=False) if r.kind in FACT_KINDS]


def _first_errors(output: IO[bytes]) -> list[str]:
    """The first lines of the go command's output that are not diagnostics.

    Lines without a space are not errors either: -v prints bare import paths.
    """
    output.seek(0)
    errors: list[str] = []
    for line in output:
        if b" " not in line.strip() or line.startswith(b"#"):
            continue
        if not any(marker in line for marker in _DIAGNOSTIC_MARKERS):
            errors.append(line.decode("utf-8", "replace").rstrip())
            if len(errors) == _MAX_ERROR_LINES:
                break
    return errors
