"""The command line's failures (an exit code, a message on stderr, and JSON when asked for),
and the formats it pipes into code review tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from escape_guard import __version__
from escape_guard.cli import main
from escape_guard.render.json import error_document
from tests import schemas
from tests.conftest import Repo
from tests.schemas import errors
from tests.test_scenarios import LIB, branch

# s escapes from line 20 (its declaration) because added line 21 takes its address; the
# edited line 15 no longer allocates.
HEAD = LIB.replace("&T{a: 1}", "nil").replace("\ts := 0\n", "\ts := 0\n\tsink = &s\n")


def _error(text: str) -> dict[str, object]:
    document = json.loads(text)
    assert document["version"] == 1
    assert document["tool"] == {"name": "escape-guard", "version": __version__}
    return {k: v for k, v in document.items() if k in ("error", "exit_code")}


def test_json_format_prints_the_git_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["diff", "--repo", str(tmp_path), "--base", "main", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 4
    assert _error(out) == {
        "error": f"{tmp_path} is not inside a git repository (pass --repo DIR)",
        "exit_code": 4,
    }
    assert "not inside a git repository" in err


def test_json_format_prints_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", "--format=json", "--fail-on", "sometimes"])
    out, err = capsys.readouterr()
    assert code == 2
    document = _error(out)
    assert document["exit_code"] == 2
    assert "argument --fail-on: invalid choice: 'sometimes'" in str(document["error"])
    assert err.startswith("usage: escape-guard diff")


def test_json_failure_goes_where_the_report_would(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit({"go.mod": "module example.com/m\n\ngo 1.21\n"}, "base")
    out = tmp_path / "report.json"
    args = ["diff", "--repo", str(repo.path), "--base", "nope", "--format", "json"]
    assert main([*args, "--output", str(out)]) == 4
    assert _error(out.read_text())["error"] == (
        f"unknown revision 'nope' in {repo.path} (if it is a remote branch, try origin/nope)"
    )
    assert capsys.readouterr().out == ""


def test_other_formats_print_nothing_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "--repo", str(tmp_path), "--base", "main"]) == 4
    assert capsys.readouterr().out == ""


def test_merge_with_json_format_prints_an_unreadable_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    assert main(["merge", str(missing), "--format", "json"]) == 2
    assert _error(capsys.readouterr().out) == {
        "error": f"cannot read {missing}: No such file or directory",
        "exit_code": 2,
    }


def test_documented_failure_is_what_the_command_writes() -> None:
    doc = Path(__file__).resolve().parent.parent / "docs" / "json-report.md"
    section = doc.read_text(encoding="utf-8").split("## When the run fails", 1)[1]
    shown = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    written = json.loads(error_document(shown["error"], shown["exit_code"]))
    assert written == {**shown, "tool": {**shown["tool"], "version": __version__}}


@pytest.mark.go
@pytest.mark.parametrize("fmt", ["rdjson", "codequality"])
def test_review_tool_formats_end_to_end(
    fmt: str,
    repo: Repo,
    go_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in go_env.items():
        monkeypatch.setenv(key, value)
    branch(repo, {"lib.go": HEAD}, base={"lib.go": LIB})
    code = main(["diff", "--repo", str(repo.path), "--base", "main", "--format", fmt])
    out = capsys.readouterr().out
    assert code == 1
    if fmt == "rdjson":
        schema = schemas.load(schemas.FIXTURES / "rdjson" / "DiagnosticResult.json")
        data = json.loads(out)
        assert errors(schemas.validator(schema), data) == []
        [diagnostic] = data["diagnostics"]
        assert diagnostic["location"] == {"path": "lib.go", "range": {"start": {"line": 21}}}
        assert (diagnostic["severity"], diagnostic["code"]["value"]) == ("ERROR", "new-heap-escape")
        assert diagnostic["original_output"] == "lib.go:20:2: moved to heap: s"
    else:
        [issue] = json.loads(out)
        assert issue["location"] == {"path": "lib.go", "lines": {"begin": 21}}
        assert (issue["severity"], issue["check_name"]) == ("major", "new-heap-escape")
        assert issue["description"].startswith("New heap allocation in Sum: `s` is moved")
