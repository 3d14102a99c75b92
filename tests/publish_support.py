"""Shared scene for the publish tests: a real git history, its diffs, and the fake GitHub.

The Go file below is never compiled: the tests only need its diff. Its head revision changes
line 9 (``sinkInt = &v``) and line 33 (``fmt.Println(n)``), so the pull request has two hunks,
and line 20 sits between them, outside both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from escape_guard.model import Finding, Kind, Report, Revision
from escape_guard.publish import Options, Outcome, Target, publish
from tests.conftest import Repo, go_environment
from tests.factories import finding, report
from tests.fakegithub import FakeGitHub
from tests.test_render_markdown import MENTION, REFERENCE, Page, to_html

REPO = "octo-org/app"
NUMBER = 7
TOKEN = "ghs_n0tAR3alT0kenButSecretAnyway"
RUN_URL = "https://github.com/octo-org/app/actions/runs/42"
FILLER = [f"// filler {i}" for i in range(12, 32)]  # lines 12-31

BASE_MAIN = [
    "package main",
    "",
    'import "fmt"',
    "",
    "var sinkInt *int",
    "",
    "func grab() {",
    "\tv := 1",
    "\t_ = v",
    "}",
    "",
    *FILLER,
    "func printIt(n int) {",
    "\t_ = n",
    "}",
]


def head_main(*, grab: bool = True, print_it: bool = True, shift: int = 0) -> list[str]:
    """The head revision of app/main.go: which changes it keeps, SHIFT lines added on top."""
    lines = list(BASE_MAIN)
    if grab:
        lines[8] = "\tsinkInt = &v"
    if print_it:
        lines[32] = "\tfmt.Println(n)"
    return lines[:1] + [f"// added {i}" for i in range(shift)] + lines[1:]


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


class History:
    """A real repository: the base commit and one head commit per push."""

    def __init__(self, path: Path) -> None:
        self.repo = Repo(path, go_environment())
        self.base = self.repo.commit({"app/main.go": text(BASE_MAIN)}, "base")

    def push(self, files: Mapping[str, str | None]) -> tuple[str, str]:
        """Commit FILES on top of the base (a fresh branch each time); (sha, diff)."""
        self.repo.git("checkout", "--quiet", "--detach", self.base)
        sha = self.repo.commit(files, "head")
        return sha, self.repo.git("diff", "--find-renames", f"{self.base}...{sha}") + "\n"


def grab_escape(*, line: int = 8, anchor: int = 9, **fields: Any) -> Finding:
    """``moved to heap: v`` at v's declaration, caused by the added ``sinkInt = &v``."""
    defaults: dict[str, Any] = {"column": 2, "source": "v := 1"}
    return finding(line=line, **(defaults | fields))._replace(anchor=anchor)


def print_escape(*, line: int = 33, **fields: Any) -> Finding:
    """``n escapes to heap`` on the added ``fmt.Println(n)``."""
    defaults: dict[str, Any] = {
        "column": 14,
        "kind": Kind.ESCAPE,
        "expression": "n",
        "function": "printIt",
        "source": "fmt.Println(n)",
    }
    return finding(line=line, **(defaults | fields))


def head_report(*findings: Finding, head_sha: str, **fields: Any) -> Report:
    """A report of FINDINGS whose head is HEAD_SHA."""
    return report(*findings, head=Revision("feature", head_sha), **fields)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """The fake GitHub of a publish test (tests/conftest.py registers these fixtures)."""
    yield from serve(monkeypatch)


@pytest.fixture
def head(server: FakeGitHub, tmp_path: Path) -> str:
    """A pull request whose head changes app/main.go; its head SHA."""
    history = History(tmp_path / "repo")
    sha, diff = history.push({"app/main.go": text(head_main())})
    server.add_pull(REPO, NUMBER, history.base, sha, "main", "feature", diff)
    return sha


def serve(monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Iterator[FakeGitHub]:
    """A started fake; every test ends with no violations and without ``GET /user``."""
    monkeypatch.setenv("ESCAPE_GUARD_RETRY_BACKOFF", "0")
    with FakeGitHub(**kwargs) as server:
        yield server
        assert server.violations == []
        assert not [r for r in server.requests if r.path == "/user"]


def target(server: FakeGitHub, head_sha: str, **fields: Any) -> Target:
    values: dict[str, Any] = {
        "api_url": server.url,
        "token": TOKEN,
        "repository": REPO,
        "head_sha": head_sha,
        "pull_number": NUMBER,
        "run_url": RUN_URL,
    }
    return Target(**(values | fields))


def run(
    server: FakeGitHub, rep: Report, head_sha: str, *, log: list[str] | None = None, **options: Any
) -> Outcome:
    """``publish`` as the action runs it, with the log collected in LOG."""
    lines = [] if log is None else log
    fields = {k: options.pop(k) for k in ("pull_number", "run_url", "token") if k in options}
    return publish(rep, target(server, head_sha, **fields), Options(**options), log=lines.append)


def writes(server: FakeGitHub, since: int = 0) -> list[tuple[str, str, int]]:
    """(method, path, status) of every write request from index SINCE on."""
    return [(r.method, r.path, r.status) for r in server.requests[since:] if r.method != "GET"]


def live_links(markdown: str) -> list[str]:
    """Mentions (``@name``) and references (``#12``) GitHub would link in MARKDOWN's prose."""
    prose = "".join(Page(to_html(markdown)).prose)
    return MENTION.findall(prose) + REFERENCE.findall(prose)
