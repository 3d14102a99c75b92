"""Compiling a checked-out revision with escape-analysis diagnostics.

Every revision is built with ``-trimpath``: the build cache key then no longer
depends on the checkout directory, so an unchanged package compiled in the base
worktree is a cache hit in the head worktree (the cache replays its
diagnostics), and positions print identically in both, as module-path-based
names such as ``example.com/m/sub/sub.go:5:29``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from escape_guard.errors import BuildError, EnvironmentProblem
from escape_guard.model import EscapeRecord
from escape_guard.modules import Module, Step, find_modules, plan
from escape_guard.parse import parse_heap
from escape_guard.proc import run

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


@dataclass(frozen=True)
class BuildSpec:
    """What to build and how; the same spec is used for both revisions."""

    patterns: tuple[str, ...] = ("./...",)
    tags: tuple[str, ...] = ()
    explain: bool = False
    # With explain: only explanations of positions (path as printed, line) it accepts.
    explain_where: Callable[[str, int], bool] | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


class RevisionBuild(NamedTuple):
    """Raw (not yet normalized) heap records of one revision, with the step that printed each."""

    records: tuple[tuple[Step, EscapeRecord], ...]
    modules: tuple[Module, ...]


def go_version(env: Mapping[str, str], *, cwd: str | None = None) -> str:
    """The version of the Go toolchain ``go`` on PATH resolves to (e.g. ``go1.27.3``)."""
    return run(["go", "env", "GOVERSION"], env=env, cwd=cwd).stdout.strip()


def go_command(spec: BuildSpec, patterns: Sequence[str], *, diagnostics: bool = True) -> list[str]:
    """``go build`` of ``patterns``; without ``diagnostics``, the same flags but no -m."""
    cmd = ["go", "build", "-trimpath", "-buildvcs=false", "-o", os.devnull]
    if diagnostics:
        cmd.append("-gcflags=-m=2" if spec.explain else "-gcflags=-m")
    if spec.tags:
        cmd.append("-tags=" + ",".join(spec.tags))
    return [*cmd, *patterns]


def warm_dependencies(root: str, spec: BuildSpec, packages: Collection[str]) -> None:
    """Compile, once and without diagnostics, what the named packages import from the module.

    Building the two revisions side by side would otherwise compile those dependencies
    twice at once (their cache entries are the same for both revisions when they did not
    change). -gcflags applies to the named packages only, so these entries are the ones
    the -m builds look up. Failures are left to the -m builds, which report them.
    """
    for step in plan(root, find_modules(root), spec.patterns, packages=packages):
        listing = [
            "go",
            "list",
            "-deps",
            "-f",
            "{{if not .Standard}}{{if .DepOnly}}{{.ImportPath}}{{end}}{{end}}",
        ]
        if spec.tags:
            listing.append("-tags=" + ",".join(spec.tags))
        cwd = os.path.join(root, step.module.dir)
        found = run([*listing, *step.patterns], cwd=cwd, env=spec.env, check=False)
        deps = found.stdout.split()
        if found.returncode == 0 and deps:
            run(go_command(spec, deps, diagnostics=False), cwd=cwd, env=spec.env, check=False)


def build_revision(
    root: str, spec: BuildSpec, *, label: str, packages: Collection[str] | None = None
) -> RevisionBuild:
    """Build the requested packages of the revision checked out at ``root``.

    ``packages``: only these repository-relative directories (see ``plan``).
    Raises BuildError naming the revision and showing the first compiler errors.
    """
    modules = find_modules(root)
    records: list[tuple[Step, EscapeRecord]] = []
    for step in plan(root, modules, spec.patterns, packages=packages):
        for record in _build_step(root, step, spec, label=label):
            records.append((step, record))
    return RevisionBuild(tuple(records), tuple(modules))


def _build_step(root: str, step: Step, spec: BuildSpec, *, label: str) -> list[EscapeRecord]:
    cmd = go_command(spec, step.patterns)
    cwd = os.path.join(root, step.module.dir)
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=dict(spec.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # Its own process group, so stop_builds can end go and every compiler it runs.
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise EnvironmentProblem("go is not installed or not on PATH") from exc
    assert proc.stderr is not None
    with proc, _running(proc), tempfile.SpooledTemporaryFile(_KEEP_IN_MEMORY) as output:
        wanted = spec.explain_where if spec.explain and spec.explain_where else spec.explain
        heap = list(parse_heap(_blocks(proc.stderr, output), explain=wanted))
        if proc.wait() == 0:
            return heap
        errors = _first_errors(output)
    where = f" in module {step.module.dir}" if step.module.dir else ""
    shown = "\n".join(f"  {line}" for line in errors) or "  (the go command printed nothing)"
    raise BuildError(
        f"the {label} does not build{where} (go build exited {proc.returncode}):\n{shown}"
    )


_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()


@contextlib.contextmanager
def _running(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        yield
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)


def stop_builds() -> None:
    """Terminate every go build still running (on Ctrl-C, from the main thread)."""
    with _RUNNING_LOCK:
        for proc in _RUNNING:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # go and the compilers it started


def _blocks(stream: IO[bytes], copy: IO[bytes]) -> Iterator[bytes]:
    """The stream's bytes as they arrive, also written to ``copy``."""
    while block := os.read(stream.fileno(), _BLOCK):
        copy.write(block)
        yield block


def _first_errors(output: IO[bytes]) -> list[str]:
    """The first lines of the go command's output that are not diagnostics."""
    output.seek(0)
    errors: list[str] = []
    for line in output:
        if not line.startswith(b"#") and not any(marker in line for marker in _DIAGNOSTIC_MARKERS):
            errors.append(line.decode("utf-8", "replace").rstrip())
            if len(errors) == _MAX_ERROR_LINES:
                break
    return errors
