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
import re
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from escape_guard.errors import BuildError, EnvironmentProblem
from escape_guard.model import EscapeRecord
from escape_guard.parse import parse_heap
from escape_guard.proc import run

_SKIP_DIRS = frozenset({"vendor", "testdata", "node_modules"})
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


class Module(NamedTuple):
    path: str  # module path from go.mod
    dir: str  # repository-relative POSIX directory; "" for the root


@dataclass(frozen=True)
class BuildSpec:
    """What to build and how; the same spec is used for both revisions."""

    patterns: tuple[str, ...] = ("./...",)
    tags: tuple[str, ...] = ()
    explain: bool = False
    # With explain: only explanations of positions (path as printed, line) it accepts.
    explain_where: Callable[[str, int], bool] | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


class Step(NamedTuple):
    module: Module
    patterns: tuple[str, ...]  # relative to the module directory


class RevisionBuild(NamedTuple):
    """Raw (not yet normalized) heap records of one revision, with the step that printed each."""

    records: tuple[tuple[Step, EscapeRecord], ...]
    modules: tuple[Module, ...]


def find_modules(root: str) -> list[Module]:
    """Every ``go.mod`` below ``root``, skipping vendor, testdata and hidden directories."""
    found: list[Module] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and not d.startswith((".", "_"))
        )
        if "go.mod" in filenames:
            rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            path = _module_path(os.path.join(dirpath, "go.mod"))
            if path:
                found.append(Module(path, "" if rel == "." else rel))
    return found


def _module_path(gomod: str) -> str:
    with open(gomod, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            words = line.split("//", 1)[0].split()
            if len(words) == 2 and words[0] == "module":
                return words[1].strip('"`')
    return ""


def plan(
    root: str,
    modules: Sequence[Module],
    patterns: Sequence[str],
    *,
    packages: Collection[str] | None = None,
) -> list[Step]:
    """Split repository-relative package patterns into one ``go build`` per module.

    ``./...`` covers every module; ``./a/...`` covers the modules under ``a`` and
    the part of an enclosing module below ``a``; a directory that does not exist
    in this revision is skipped (the package was added or removed). With
    ``packages`` (repository-relative directories), only those of them that the
    patterns select are built, each named on the command line.
    """
    if packages is not None:
        return _plan_packages(root, modules, patterns, packages)
    steps: list[Step] = []
    for module in modules:
        mine: list[str] = []
        for pattern in patterns:
            local = _pattern_for(pattern, module, modules)
            if local and _exists(root, module, local):
                mine.append(local)
        if mine:
            steps.append(Step(module, tuple(dict.fromkeys(mine))))
    return steps


def _plan_packages(
    root: str, modules: Sequence[Module], patterns: Sequence[str], packages: Collection[str]
) -> list[Step]:
    chosen: dict[Module, list[str]] = {}
    for directory in sorted(packages):
        owner = _owner_dir(directory, modules)
        module = next((m for m in modules if m.dir == owner and _is_under(directory, m.dir)), None)
        if module is None or not _has_go_files(os.path.join(root, directory)):
            continue
        rel = directory[len(module.dir) :].lstrip("/")
        import_path = f"{module.path}/{rel}" if rel else module.path
        local = f"./{rel}" if rel else "."
        wanted = (_pattern_for(p, module, modules) for p in patterns)
        if any(w and _selects(w, local, import_path) for w in wanted):
            chosen.setdefault(module, []).append(local)
    return [Step(module, tuple(locals_)) for module, locals_ in chosen.items()]


def _selects(pattern: str, local: str, import_path: str) -> bool:
    """Whether a module-relative or import-path pattern (``...`` wildcards) names the package."""
    name = local if pattern.startswith(".") else import_path
    if pattern.startswith("./") and local == ".":
        name = "./"
    regex = (
        re.escape(pattern).replace(re.escape("/..."), "(?:/.*)?").replace(re.escape("..."), ".*")
    )
    return re.fullmatch(regex, name) is not None or (pattern in ("./...", ".") and local == ".")


def _has_go_files(directory: str) -> bool:
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    return any(n.endswith(".go") and not n.endswith("_test.go") for n in names)


def _pattern_for(pattern: str, module: Module, modules: Sequence[Module]) -> str | None:
    if not pattern.startswith(".") and not pattern.startswith("/"):
        # An import-path pattern belongs to the module whose path prefixes it.
        owner = _longest(
            module_
            for module_ in modules
            if pattern == module_.path or pattern.startswith(module_.path + "/")
        )
        return pattern if owner == module else None
    recursive = pattern.endswith("/...") or pattern == "..."
    target = os.path.normpath(pattern.removesuffix("...").rstrip("/") or ".").replace(os.sep, "/")
    target = "" if target == "." else target
    if _is_under(target, module.dir):
        inner = _owner_dir(target, modules)
        if inner != module.dir:
            return None  # a nested module owns that directory
        rel = target[len(module.dir) :].lstrip("/") if module.dir else target
        local = "./" + rel if rel else "."
        return (local.rstrip("/") + "/...") if recursive else local
    if recursive and _is_under(module.dir, target):
        return "./..."
    return None


def _longest(modules: Iterable[Module]) -> Module | None:
    return max(modules, key=lambda m: len(m.path), default=None)


def _owner_dir(target: str, modules: Sequence[Module]) -> str:
    return max((m.dir for m in modules if _is_under(target, m.dir)), key=len, default="")


def _is_under(path: str, parent: str) -> bool:
    return parent in ("", path) or path.startswith(parent + "/")


def _exists(root: str, module: Module, local: str) -> bool:
    if not local.startswith("."):
        return True
    rel = local.removesuffix("...").rstrip("/")
    return os.path.isdir(os.path.join(root, module.dir, rel))


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
