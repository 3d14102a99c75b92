"""Which Go toolchain builds both revisions: chosen once, as the go command would for the head.

The go command picks its toolchain from GOTOOLCHAIN and the ``go``/``toolchain`` lines of
the go.mod (or go.work) on disk, not from -overlay, so left alone the compiler would depend
on what happens to be checked out. Here the head's lines and GOTOOLCHAIN choose it once
(https://go.dev/doc/toolchain), and the builds run with GOTOOLCHAIN set to that name, which
no revision's go.mod can switch.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from escape_guard.builds.compile import build_environment
from escape_guard.builds.goversions import compare_key, go_line_toolchain, version
from escape_guard.errors import BuildError, EnvironmentProblem
from escape_guard.git import Git
from escape_guard.proc import run
from escape_guard.tasks import Task

_SKIP = frozenset({"vendor", "testdata", "node_modules"})


class Request(NamedTuple):
    """A ``go`` or ``toolchain`` line of a revision's go.mod or go.work."""

    revision: str  # "head" or "base"
    path: str  # repository-relative
    line: int
    directive: str  # "go" or "toolchain"
    value: str  # "1.25", "go1.28.0", "default"

    def __str__(self) -> str:
        return (
            f"the {self.revision} revision's {self.path} asks for "
            f"`{self.directive} {self.value}` (line {self.line})"
        )

    @property
    def toolchain(self) -> str:
        """The toolchain name this line asks for at least ("" for ``toolchain default``)."""
        if self.directive == "toolchain":
            return "" if self.value == "default" else self.value
        return go_line_toolchain(self.value)


class Choice(NamedTuple):
    """The toolchain both revisions are built with, and why."""

    name: str  # e.g. "go1.27.3"
    gotoolchain: str  # GOTOOLCHAIN as configured, for messages
    asked_by: Request | None  # the head's line that chose it; None: GOTOOLCHAIN did
    path_only: bool  # GOTOOLCHAIN's +path: found in PATH, never downloaded


def parse_gotoolchain(value: str, local: str) -> tuple[str, str]:
    """GOTOOLCHAIN as (minimum toolchain name, mode ``""``, ``auto`` or ``path``).

    ``auto`` is ``local+auto``, ``path`` is ``local+path``; unset means local.
    """
    value = value.strip()
    if value in ("", "local", "auto", "path"):
        return local, value if value in ("auto", "path") else ""
    minimum, plus, mode = value.partition("+")
    if plus and mode not in ("auto", "path"):
        raise EnvironmentProblem(f"invalid GOTOOLCHAIN {value!r}: the suffix is +auto or +path")
    if minimum != "local" and not version(minimum):
        raise EnvironmentProblem(f"invalid GOTOOLCHAIN {value!r}")
    return (local if minimum == "local" else minimum), mode


def requests(text: str, *, revision: str, path: str) -> list[Request]:
    """The ``go`` and ``toolchain`` lines of a go.mod or go.work file."""
    found: dict[str, Request] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("//", 1)[0].split()
        if len(words) == 2 and words[0] in ("go", "toolchain") and words[0] not in found:
            found[words[0]] = Request(revision, path, number, words[0], words[1])
    return list(found.values())


def choose(gotoolchain: str, local: str, head: Sequence[Request]) -> Choice:
    """The toolchain the go command would run for the head, whatever the base asks for.

    With +auto or +path, a file's ``toolchain`` line and then its ``go`` line raise the
    minimum (``toolchain default`` keeps the file from raising it); of several files
    (one go.mod per module), the highest request wins.
    """
    minimum, mode = parse_gotoolchain(gotoolchain, local)
    best, asked_by = minimum, None
    if mode:
        for _path, lines in _by_file(head):
            if any(r.directive == "toolchain" and r.value == "default" for r in lines):
                continue
            for request in sorted(lines, key=lambda r: r.directive != "toolchain"):
                wanted = request.toolchain
                if not version(wanted):
                    raise BuildError(f"{request}, which is not a Go toolchain name")
                if compare_key(version(wanted)) > compare_key(version(best)):
                    best, asked_by = wanted, request
    return Choice(best, gotoolchain.strip() or "local", asked_by, mode == "path")


def too_new(chosen: str, asked: Iterable[Request]) -> Request | None:
    """The first ``go`` line asking for a newer Go than the toolchain ``chosen``."""
    for request in asked:
        if request.directive == "go" and compare_key(request.value) > compare_key(chosen):
            return request
    return None


def describe(
    choice: Choice, go_version: str, local: str, head: Sequence[Request] = ()
) -> str | None:
    """The note saying how the toolchain was chosen; None for the plain local toolchain.

    A ``toolchain`` line of the head that GOTOOLCHAIN keeps from switching is named too.
    """
    why = f"GOTOOLCHAIN={choice.gotoolchain}"
    if choice.asked_by is not None:
        return f"Go {go_version} ({choice.asked_by}; {why})"
    passed_over = [
        r
        for r in head
        if r.directive == "toolchain"
        and version(r.value)
        and compare_key(version(r.value)) > compare_key(version(choice.name))
    ]
    if passed_over:
        return f"Go {go_version} ({why}, although {passed_over[0]})"
    if choice.name != local:
        return f"Go {go_version} ({why})"
    return None


def _by_file(asked: Iterable[Request]) -> list[tuple[str, list[Request]]]:
    files: dict[str, list[Request]] = {}
    for request in asked:
        files.setdefault(request.path, []).append(request)
    return sorted(files.items())


# --- the edge: git and the go command -----------------------------------------------------


class Known(NamedTuple):
    """What the choice starts from, read without running another toolchain."""

    local: str  # the go on PATH's version, e.g. "go1.27.3"
    gotoolchain: str  # as configured: the environment, else go env -w's file, else go.env
    goflags: str  # as configured, go env -w's file included
    head: list[Request]
    base: list[Request]
    base_sha: str


class Selected(NamedTuple):
    env: dict[str, str]  # the build environment, GOTOOLCHAIN pinned
    note: str | None  # how the toolchain was chosen, unless it is simply the local one
    version: str  # the chosen toolchain's GOVERSION, e.g. "go1.27.3"


def read_toolchain(
    git: Git,
    *,
    base: str,
    head: str,
    env: Mapping[str, str],
    local: Task[dict[str, str]] | None = None,
) -> Known:
    """The local toolchain, GOTOOLCHAIN and both revisions' lines (no download: cheap).

    ``local``: ``local_go`` started already (it needs no revision, so it can start first).
    """
    facts = local or local_go(git, env)
    head_asks, base_asks = _asked(git, {"head": head, "base": base}, env)
    found = facts.result()
    configured = env.get("GOTOOLCHAIN") or _configured(found)
    goflags = env.get("GOFLAGS") or found.get("GOFLAGS", "")
    return Known(found.get("GOVERSION", ""), configured, goflags, head_asks, base_asks, base)


def select_toolchain(known: Known, env: Mapping[str, str], *, cwd: str) -> Selected:
    """The build environment pinned to the head's toolchain (see the module docstring).

    The chosen toolchain is looked for in PATH, or downloaded by the go command when
    GOTOOLCHAIN allows it. Raises EnvironmentProblem when the head needs a Go that is not
    available, BuildError when the base asks for a newer Go than the head's toolchain.
    """
    local = known.local
    if not version(local):  # a development build: it is what the user wants
        return Selected({**env, "GOTOOLCHAIN": "local"}, None, local)
    choice = choose(known.gotoolchain, local, known.head)
    go_version = local if choice.name == local else _obtain(choice, env, cwd)
    missing = too_new(version(go_version), known.head)
    if missing:
        raise EnvironmentProblem(
            f"{missing}, which is newer than {go_version}: GOTOOLCHAIN={choice.gotoolchain}"
        )
    base_asks = too_new(version(go_version), known.base)
    if base_asks:
        raise BuildError(
            f"the base revision {known.base_sha[:12]} does not build with {go_version}, the "
            f"head's toolchain: {base_asks}"
        )
    pinned = {**env, "GOTOOLCHAIN": "local" if choice.name == local else choice.name}
    if known.goflags:
        pinned["GOFLAGS"] = known.goflags  # go env -w's too, for build_environment to clean
    return Selected(pinned, describe(choice, go_version, local, known.head), go_version)


def local_go(git: Git, env: Mapping[str, str]) -> Task[dict[str, str]]:
    """Start asking the go on PATH for its own version and configuration (``go env``)."""
    return Task(lambda: _go_env(env, cwd=git.root))


def _go_env(env: Mapping[str, str], *, cwd: str) -> dict[str, str]:
    """The go on PATH's own version and configuration, without switching toolchains."""
    local = {**build_environment(env), "GOTOOLCHAIN": "local"}
    out = run(["go", "env", "-json", "GOVERSION", "GOFLAGS", "GOENV", "GOROOT"], env=local, cwd=cwd)
    facts: dict[str, str] = json.loads(out.stdout)
    return facts


def _configured(facts: Mapping[str, str]) -> str:
    """GOTOOLCHAIN from go env -w's file, else from $GOROOT/go.env (the go command's order)."""
    for path in (facts.get("GOENV", ""), os.path.join(facts.get("GOROOT", ""), "go.env")):
        if path and path != "off" and os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    key, eq, value = line.strip().partition("=")
                    if eq and key == "GOTOOLCHAIN" and value:
                        return value
    return ""


def _asked(git: Git, shas: Mapping[str, str], env: Mapping[str, str]) -> list[list[Request]]:
    """Each revision's ``go``/``toolchain`` lines: its root go.work, else its go.mod files.

    ``shas``: revision name → commit. Both revisions' files are read by one git process.
    """
    files: dict[str, dict[str, str]] = {}  # revision → path → blob
    for revision, sha in shas.items():
        blobs = {e.path: e.object for e in git.tree(sha) if _is_module_file(e.path, env)}
        if "go.work" in blobs:  # workspace mode: go.work's lines are the ones go reads
            blobs = {"go.work": blobs["go.work"]}
        files[revision] = blobs
    texts = git.blobs(blob for blobs in files.values() for blob in blobs.values())
    return [
        [
            request
            for path, blob in sorted(blobs.items())
            for request in requests(texts[blob].decode("utf-8", "replace"), revision=r, path=path)
        ]
        for r, blobs in files.items()
    ]


def _is_module_file(path: str, env: Mapping[str, str]) -> bool:
    *dirs, name = path.split("/")
    if name == "go.mod":
        return not any(d in _SKIP or d.startswith((".", "_")) for d in dirs)
    return path == "go.work" and env.get("GOWORK") != "off"


def _obtain(choice: Choice, env: Mapping[str, str], cwd: str) -> str:
    """The version of the chosen toolchain, found in PATH or downloaded by the go command."""
    why = (
        str(choice.asked_by)
        if choice.asked_by
        else f"GOTOOLCHAIN={choice.gotoolchain} asks for {choice.name}"
    )
    if choice.path_only and not shutil.which(choice.name, path=env.get("PATH")):
        raise EnvironmentProblem(
            f"{why}, which is not available: GOTOOLCHAIN={choice.gotoolchain} looks for "
            f"{choice.name} in PATH only, and it is not there"
        )
    pinned = {**build_environment(env), "GOTOOLCHAIN": choice.name}
    result = run(["go", "env", "GOVERSION"], env=pinned, cwd=cwd, check=False)
    if result.returncode != 0:
        said = "; ".join(result.stderr.strip().splitlines()[-2:]) or f"exit {result.returncode}"
        raise EnvironmentProblem(f"{why}, which is not available: {said}")
    return result.stdout.strip()


class Library:
    """Reads the files outside the repository that records point at (``slices/sort.go``,
    ``golang.org/x/exp@v0.1.0/maps/maps.go``), from the toolchain chosen and the module cache.

    The go command is asked where they are at the first file, not before: most runs read none.
    """

    def __init__(self, env: Mapping[str, str], *, cwd: str) -> None:
        self._env, self._cwd = env, cwd
        self._roots: dict[str, str] | None = None

    def __call__(self, path: str) -> str | None:
        roots = self._where()
        first = path.split("/", 1)[0]
        top = roots.get("GOMODCACHE", "") if "@" in first or "@" in path else ""
        base = top or os.path.join(roots.get("GOROOT", ""), "src")
        try:
            with open(os.path.join(base, path), encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            return None

    def _where(self) -> dict[str, str]:
        if self._roots is None:
            done = run(
                ["go", "env", "-json", "GOROOT", "GOMODCACHE"],
                env=build_environment(self._env),
                cwd=self._cwd,
                check=False,
            )
            self._roots = json.loads(done.stdout) if done.returncode == 0 else {}
        return self._roots
