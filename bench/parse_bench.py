"""Parser throughput and memory on a large ``-m=2`` output, against ``grep -c``.

    python bench/parse_bench.py                 # builds std with -m=2 first (~1 min, 2 cores)
    python bench/parse_bench.py --input FILE    # an existing capture
    python bench/parse_bench.py --save FILE     # keep the generated capture

Without ``--input`` it runs ``go build -trimpath -gcflags=-m=2 std`` with the pinned
toolchain (the ``go`` beside this Python) and an empty build cache, so every package is
compiled. Each parse runs in a child process that reads the file as the build step reads the
compiler's stderr: ``parse_lines`` line by line, ``parse_heap`` in 1 MiB blocks; the child
reports its own time and peak RSS. ``parse_heap`` is measured bare (as the base revision is
built), explaining every heap record (as ``diff --explain`` builds the head), and explaining
about 1% of the positions (lines divisible by 100), as when only findings are explained.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from escape_guard.records.heap import parse_heap
from escape_guard.records.parse import parse_lines
path, mode = sys.argv[1], sys.argv[2]
explain = {"heap": False, "heap-explained": True, "heap-1%": lambda path, line: line % 100 == 0}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
records = heap = explained = 0
with open(path, "rb") as lines:
    if mode == "floor":  # what any line-by-line Python reader pays: iterate and decode
        for line in lines:
            line.decode("utf-8", "replace")
    else:
        if mode in explain:
            found = parse_heap(iter(lambda: lines.read(1 << 20), b""), explain=explain[mode])
        else:
            found = parse_lines(lines, explanations=mode == "explanations")
        for record in found:
            records += 1
            if record.is_heap:
                heap += 1
                explained += bool(record.explanation)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(seconds=seconds, before_kib=before, peak_kib=peak, records=records,
                      heap=heap, explained=explained)))
"""
_GREP = "grep -c 'escapes to heap'"
_MODES = {
    "explanations": "parse_lines(explanations=True)",
    "bare": "parse_lines(explanations=False)",
    "heap": "parse_heap(explain=False)",
    "heap-explained": "parse_heap(explain=True)",
    "heap-1%": "parse_heap(explain=1% of positions)",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, help="an existing -m=2 capture")
    parser.add_argument("--save", type=Path, help="where to keep the generated capture")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="escape-guard-bench-") as tmp:
        capture = args.input or _build_std(Path(tmp), args.save)
        _report(capture, args.repeat)
    return 0


def _build_std(tmp: Path, save: Path | None) -> Path:
    go = shutil.which("go", path=str(Path(sys.executable).parent)) or "go"
    out = save or tmp / "std-m2.txt"
    env = dict(
        os.environ,
        GOTOOLCHAIN="local",
        GOPROXY="off",
        GOFLAGS="-mod=mod",
        GOCACHE=str(tmp / "gocache"),
    )
    print(f"building std with {go} -gcflags=-m=2 ...", file=sys.stderr)
    start = time.perf_counter()
    with out.open("wb") as sink:
        subprocess.run(
            [go, "build", "-trimpath", "-gcflags=-m=2", "std"],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            check=True,
        )
    print(f"built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out


def _report(capture: Path, repeat: int) -> None:
    size = capture.stat().st_size
    with capture.open("rb") as fh:
        lines = sum(1 for _ in fh)
    grep = min(_time_grep(capture) for _ in range(repeat))
    print(f"input: {capture} ({size / 1e6:.1f} MB, {lines:,} lines); best of {repeat} runs")
    header = ("", "seconds", "x grep", "peak RSS", "before", "records", "heap")
    print("{:38}{:>8}{:>8}{:>10}{:>8}{:>11}{:>8}".format(*header))
    print(f"{_GREP:38}{grep:8.3f}{1:8.1f}")
    for mode, label in {"floor": "read and decode every line", **_MODES}.items():
        runs = [_parse_in_child(capture, mode) for _ in range(repeat)]
        best = min(runs, key=lambda run: run["seconds"])
        peak = max(run["peak_kib"] for run in runs) / 1024
        before = best["before_kib"] / 1024
        row = f"{label:38}{best['seconds']:8.3f}{best['seconds'] / grep:8.1f}{peak:7.0f} MB"
        row += f"{before:5.0f} MB"
        if mode != "floor":
            row += f"{best['records']:11,}{best['heap']:8,}"
        if best["explained"]:
            row += f"  ({best['explained']:,} explained)"
        print(row)
    print("peak RSS: of the whole child process; before: its RSS when parsing starts")


def _time_grep(capture: Path) -> float:
    # Read grep's answer: with stdout on /dev/null GNU grep stops at the first match.
    start = time.perf_counter()
    subprocess.run(["grep", "-c", "escapes to heap", str(capture)], check=True, capture_output=True)
    return time.perf_counter() - start


def _parse_in_child(capture: Path, mode: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(capture), mode],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
