"""Shard partitioning and merging shard reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from escape_guard.cli import main
from escape_guard.errors import UsageError
from escape_guard.judgement.merge import merge_reports, parse_shard, select_shard
from escape_guard.model import Kind, Revision, Status
from tests.conftest import Repo
from tests.factories import finding, record, report

PACKAGES = [f"pkg/p{i:02d}" for i in range(23)] + ["", "cmd/tool"]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 25, 40])
def test_shards_partition_the_packages(count: int) -> None:
    shards = [select_shard(PACKAGES, (k, count)) for k in range(1, count + 1)]
    assert sorted(p for shard in shards for p in shard) == sorted(PACKAGES)  # each exactly once
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1  # balanced
    assert shards == [
        select_shard(list(reversed(PACKAGES)), (k, count))  # order-independent
        for k in range(1, count + 1)
    ]


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0", "-1/2", ""])
def test_bad_shard(text: str) -> None:
    with pytest.raises(UsageError, match="K/N"):
        parse_shard(text)


def test_merge_pairs_a_function_moved_across_shards() -> None:
    moved_new = finding(record(path="b/b.go", line=3, function="Keep", expression="v"))
    moved_fixed = finding(
        record(path="a/a.go", line=9, function="Keep", expression="v"), status=Status.FIXED
    )
    really_new = finding(record(path="b/b.go", line=8, function="Other", expression="w"))
    one = report(moved_fixed, timings=[("build", 2.0), ("compare", 0.1)], notes=["shard 1/2"])
    two = report(moved_new, really_new, timings=[("build", 3.0)], notes=["shard 2/2"])
    merged = merge_reports([one, two])
    assert [(f.record.path, f.status) for f in merged.findings] == [
        ("b/b.go", Status.UNCHANGED),
        ("b/b.go", Status.NEW),
    ]
    assert dict(merged.timings) == {"build": 3.0, "compare": 0.1}
    assert merged.notes == ("shard 1/2", "shard 2/2")


def test_an_importer_two_shards_reach_is_reported_once() -> None:
    caller = finding(record(path="app/app.go", line=6, function="Use"), status=Status.INDIRECT)
    merged = merge_reports([report(caller), report(caller)])
    assert merged.findings == (caller,)


def test_merge_refuses_reports_of_different_comparisons() -> None:
    other = report(head=Revision("x", "9" * 40))
    with pytest.raises(UsageError, match="different revisions"):
        merge_reports([report(), other])


def test_merge_keeps_kinds_apart() -> None:
    new = finding(record(function="F", kind=Kind.ESCAPE, expression="x"))
    fixed = finding(
        record(path="z.go", function="F", kind=Kind.MOVED, expression="x"), status=Status.FIXED
    )
    statuses = sorted(f.status for f in merge_reports([report(new), report(fixed)]).findings)
    assert statuses == [Status.FIXED, Status.NEW]


GRAB = "\n// Grab keeps v.\nfunc Grab() {\n\tv := 1\n\tsink = &v\n}\n"
LIB = "package {name}\n\nvar sink *int\n"


@pytest.mark.go
def test_sharded_runs_merge_to_the_unsharded_result(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, go_env: dict[str, str]
) -> None:
    for key, value in go_env.items():
        monkeypatch.setenv(key, value)
    base = {f"p{i}/p.go": LIB.format(name=f"p{i}") + GRAB for i in range(5)}
    base["p1/p.go"] = LIB.format(name="p1")
    repo.commit({"go.mod": "module example.com/m\n\ngo 1.21\n", **base}, "base")
    repo.git("switch", "--quiet", "-c", "feature")
    box = "\n// Box allocates.\nfunc Box(n int) *int {\n\treturn &n\n}\n"
    head = {f"p{i}/p.go": base[f"p{i}/p.go"] + box for i in (0, 2, 4)}
    # Grab moves from p3 (shard 1 of 3) into p1 (shard 2 of 3): it must not look new.
    head["p3/p.go"] = LIB.format(name="p3")
    head["p1/p.go"] = base["p1/p.go"] + GRAB
    repo.commit(head, "head")

    def diff(*extra: str) -> tuple[int, Path]:
        out = tmp_path / f"report{'-'.join(extra).replace('/', 'of')}.json"
        code = main(
            [
                "diff",
                "--repo",
                str(repo.path),
                "--base",
                "main",
                "--format",
                "json",
                "--output",
                str(out),
                *extra,
            ]
        )
        return code, out

    whole_code, whole = diff()
    shard_files = [diff("--shard", f"{k}/3")[1] for k in (1, 2, 3)]
    merged = tmp_path / "merged.json"
    code = main(["merge", *map(str, shard_files), "--format", "json", "--output", str(merged)])
    assert (code, whole_code) == (1, 1)

    def summary(path: Path) -> tuple[object, ...]:
        data = json.loads(path.read_text())
        return tuple(
            sorted((f["path"], f["line"], f["expression"]) for f in data[key])
            for key in ("new", "fixed", "indirect")
        )

    assert summary(merged) == summary(whole)
    assert [f["path"] for f in json.loads(merged.read_text())["new"]] == [
        "p0/p.go",
        "p2/p.go",
        "p4/p.go",
    ]
