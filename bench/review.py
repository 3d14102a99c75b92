"""Time to review: the action's run against a fake GitHub, beside the CLI on the same revisions.

    python bench/review.py                 # 5 runs of each
    python bench/review.py --runs 3 --latency 0.2

Two pull requests, each run through ``escape-guard action`` (as the container runs it: the
runner's GITHUB_* variables, every input at its default, pauses as shipped) against the
fake GitHub server of the tests on 127.0.0.1, with a fresh server each run so that every run
posts its review, summary comment and check run:

- the workload's ``leaf`` pull request (``bench/workload.py``, 22 packages) after a
  default-branch run on the same kept cache (``bench/run.py``'s "main" cache, made by the
  run the push to main makes), against ``escape-guard diff --explain`` of the same revisions
  from the same cache state (the action explains by default) and plain ``escape-guard diff``.
  Target: the action's run at most 1.15× the CLI's;
- the bundled demo pull request (``examples/demo``) on a warm cache: time to review at most its
  compare (the report's revisions, build and compare timings) plus 0.5 s.

Time to review is from the action's process start to the fake server's last answer. Its split
comes from the action's own time-to-review line: start-up (interpreter, imports, inputs and
event), compile (history, revisions, builds, comparison), then API requests, pauses between
writes and the rest (rendering and writing the reports) after the compile. ``--latency`` adds
seconds to every answer of the server, as GitHub's take 100-300 ms more than loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from example_bench import make_repo
from run import (
    DEFAULT_PACKAGES,
    ROOT,
    Bench,
    _ratio,
    _table,
    _workload,
    byte_compile,
    prepare_std_caches,
)
from tests.action_harness import REPOSITORY, TOKEN, action_defaults, pull_request_payload
from tests.fakegithub import FakeGitHub
from workload import go_env

NUMBER = 1
TIMING = re.compile(
    r"time to review (?P<total>[\d.]+) s: start-up (?P<startup>[\d.]+) s, "
    r"compile (?P<compile>[\d.]+) s, then [\d.]+ s: API (?P<api>[\d.]+) s, "
    r"pauses (?P<pauses>[\d.]+) s, the rest (?P<rest>[\d.]+) s; (?P<requests>\d+) requests"
)
PARTS = ("startup", "compile", "api", "pauses", "rest")


@dataclass
class Review:
    """One action run: wall times seen from outside and the run's own split."""

    review: float  # process start to the server's last answer
    exit: float  # process start to its exit
    compare: float  # the report's timings: revisions, build, compare
    split: dict[str, float]
    requests: int
    log: str  # the action's output


def pull_request(server: FakeGitHub, repo: Path, base: str, head: str) -> dict[str, object]:
    """Registers BASE...HEAD as pull request 1 on SERVER; its pull_request event payload."""

    def git(*args: str) -> str:
        cmd = ["git", "-C", str(repo), *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    base_sha, head_sha = git("rev-parse", base).strip(), git("rev-parse", head).strip()
    diff = git("diff", "--find-renames", f"{base_sha}...{head_sha}")
    server.add_repo(REPOSITORY)
    for sha in (base_sha, head_sha):
        server.add_commit(REPOSITORY, sha)
    server.add_pull(REPOSITORY, NUMBER, base_sha, head_sha, base, head, diff)
    return pull_request_payload(NUMBER, (base, base_sha), (head, head_sha))


def action_run(
    repo: Path, base: str, head: str, *, env: Mapping[str, str], scratch: Path, latency: float
) -> Review:
    """``escape-guard action`` on the pull request BASE...HEAD of REPO, timed."""
    runner = scratch / "runner"
    shutil.rmtree(runner, ignore_errors=True)
    runner.mkdir(parents=True)
    with FakeGitHub() as server:
        server.latency = latency
        payload = pull_request(server, repo, base, head)
        (runner / "event.json").write_text(json.dumps(payload), "utf-8")
        for name in ("output", "summary", "env"):
            (runner / name).write_text("", "utf-8")
        environ = {
            **env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(runner / "event.json"),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_WORKSPACE": str(repo),
            "GITHUB_API_URL": server.url,
            "GITHUB_STEP_SUMMARY": str(runner / "summary"),
            "GITHUB_OUTPUT": str(runner / "output"),
            "GITHUB_ENV": str(runner / "env"),
            "GITHUB_RUN_ID": "1",
            **action_defaults(TOKEN),
        }
        environ.pop("ESCAPE_GUARD_RETRY_BACKOFF", None)  # the pauses as shipped
        command = [str(Path(sys.executable).parent / "escape-guard"), "action"]
        start = time.monotonic()
        proc = subprocess.run(
            command, cwd=repo, env=environ, capture_output=True, text=True, check=False
        )
        end = time.monotonic()
        if proc.returncode not in (0, 1) or server.violations:
            raise RuntimeError(f"the action failed ({proc.returncode}):\n{proc.stdout}")
        last = max(r.answered for r in server.requests)
    found = TIMING.search(proc.stdout)
    if found is None:
        raise RuntimeError(f"no time-to-review line in the action's log:\n{proc.stdout}")
    report = json.loads((repo / ".escape-guard" / "report.json").read_text("utf-8"))
    compare = sum(report["timings"].values())
    split = {part: float(found.group(part)) for part in PARTS}
    requests = int(found.group("requests"))
    return Review(last - start, end - start, compare, split, requests, proc.stdout)


def cli_run(
    repo: Path, base: str, head: str, env: Mapping[str, str], flags: Sequence[str]
) -> float:
    command = [str(Path(sys.executable).parent / "escape-guard"), "diff", "--repo", str(repo)]
    command += ["--base", base, "--head", head, "--format", "json", *flags]
    start = time.monotonic()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"escape-guard diff failed ({proc.returncode}): {proc.stderr}")
    return time.monotonic() - start


def _median(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f}"


def _split_rows(name: str, reviews: Sequence[Review]) -> list[str]:
    return [
        name,
        _median([r.review for r in reviews]),
        *(_median([r.split[part] for r in reviews]) for part in PARTS),
        str(reviews[0].requests),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds every answer of the server takes"
    )
    parser.add_argument("--show-log", action="store_true", help="print the last action's log")
    args = parser.parse_args(argv)
    env = go_env()
    version = subprocess.run(
        ["go", "env", "GOVERSION"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    byte_compile()
    std = prepare_std_caches(ROOT / ".cache" / "bench" / version, env)
    with tempfile.TemporaryDirectory(prefix="escape-guard-review-") as tmp:
        scratch = Path(tmp)
        bench = Bench(scratch, std, env)
        workload = _workload(bench, DEFAULT_PACKAGES, log)
        log("the default branch's run, for the kept cache")
        bench.main_cache(workload)
        repo = workload.repo

        where = {"scratch": scratch, "latency": args.latency}

        def fresh() -> dict[str, str]:
            return bench.prepared_env("main")

        ways: dict[str, Callable[[], object]] = {
            "action": lambda: action_run(repo, "main", "leaf", env=fresh(), **where),
            "diff --explain": lambda: cli_run(repo, "main", "leaf", fresh(), ["--explain"]),
            "diff": lambda: cli_run(repo, "main", "leaf", fresh(), []),
        }
        samples: dict[str, list[object]] = {way: [] for way in ways}
        for i in range(args.runs):
            log(f"leaf after main's run: run {i + 1}/{args.runs}")
            for way, run in ways.items():
                samples[way].append(run())
        leaf = [s for s in samples["action"] if isinstance(s, Review)]
        explain = [float(s) for s in samples["diff --explain"] if isinstance(s, float)]
        plain = [float(s) for s in samples["diff"] if isinstance(s, float)]

        log("the demo pull request")
        demo_repo = make_repo(scratch)
        demo_env = dict(env, GOCACHE=str(scratch / "demo-cache"))
        action_run(demo_repo, "main", "feature", env=demo_env, **where)  # warms
        demo = [
            action_run(demo_repo, "main", "feature", env=demo_env, **where)
            for _ in range(args.runs)
        ]

    print(
        f"time to review (go {version}, {os.cpu_count()} CPUs, {args.runs} runs, "
        f"server latency {args.latency:.2f} s)\n"
    )
    headers = ["pull request", "review", "start-up", "compile", "API", "pauses", "rest", "requests"]
    print(_table(headers, [_split_rows("leaf, after main", leaf), _split_rows("demo", demo)]))
    print()
    rows = [
        [
            "leaf: action / diff --explain",
            _ratio([a.review / b for a, b in zip(leaf, explain, strict=True)], 1.15),
        ],
        ["leaf: action / diff", _ratio([a.review / b for a, b in zip(leaf, plain, strict=True)])],
        [
            "leaf: diff --explain, diff (s)",
            f"{_median(explain)}, {_median(plain)}",
        ],
        [
            "demo: review − compare (s)",
            _ratio([r.review - r.compare for r in demo], 0.5),
        ],
        ["demo: compare (s)", _median([r.compare for r in demo])],
        ["exits after the last answer (s)", _median([r.exit - r.review for r in leaf + demo])],
    ]
    print(_table(["measure", "median [range]"], rows))
    if args.show_log:
        print(f"\nthe last leaf run's log:\n{leaf[-1].log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
