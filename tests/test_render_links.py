"""Positions that link to their lines on GitHub, and plain ones without a repository."""

from __future__ import annotations

import re

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from escape_guard.model import Revision, Status
from escape_guard.render.links import links, position_url
from escape_guard.render.markdown import render
from tests.factories import HEAD_SHA, MERGE_BASE_SHA, finding, report

GITHUB = links("", "octo-org/app")


def hrefs(markdown: str) -> list[str]:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return re.findall(r'href="([^"]*)"', html)


def test_new_and_indirect_link_to_the_head_fixed_to_the_merge_base() -> None:
    new = finding(path="app/main.go", line=29)
    fixed = finding(path="app/old.go", line=7, status=Status.FIXED)
    r = report(new, new._replace(status=Status.INDIRECT), fixed)
    blob = "https://github.com/octo-org/app/blob"
    assert position_url(GITHUB, r, new) == f"{blob}/{HEAD_SHA}/app/main.go#L29"
    assert position_url(GITHUB, r, fixed) == f"{blob}/{MERGE_BASE_SHA}/app/old.go#L7"


@pytest.mark.parametrize(
    ("path", "encoded"),
    [
        ("a b/c.go", "a%20b/c.go"),
        ("x/#1(2).go", "x/%231%282%29.go"),
        ("üñí/ç.go", "%C3%BC%C3%B1%C3%AD/%C3%A7.go"),
        ("x/a>b<c.go", "x/a%3Eb%3Cc.go"),
    ],
)
def test_paths_are_percent_encoded(path: str, encoded: str) -> None:
    found = finding(path=path, line=3)
    url = position_url(GITHUB, report(found), found)
    assert url == f"https://github.com/octo-org/app/blob/{HEAD_SHA}/{encoded}#L3"
    assert hrefs(render(report(found), links=GITHUB)) == [url]


def test_github_enterprise_server_and_its_path_prefix() -> None:
    found = finding(line=5)
    ghes = links("https://ghe.example.com/", "team/svc")
    assert position_url(ghes, report(found), found).startswith(
        f"https://ghe.example.com/team/svc/blob/{HEAD_SHA}/"
    )
    prefixed = links("http://ghe.example.com:8080/github", "team/svc")
    assert position_url(prefixed, report(found), found).startswith(
        "http://ghe.example.com:8080/github/team/svc/blob/"
    )


@pytest.mark.parametrize(
    ("server", "repository"),
    [
        ("javascript:alert(1)", "o/r"),
        ("https://x.example/a b", "o/r"),
        ("https://x.example)", "o/r"),
        ("https://github.com", "no-slash"),
        ("https://github.com", "o/r/extra"),
    ],
)
def test_odd_servers_and_repositories_give_no_links(server: str, repository: str) -> None:
    assert links(server, repository) is None


def test_no_link_outside_the_repository_or_for_a_snapshot_head() -> None:
    outside = finding(path="/usr/lib/go/src/fmt/print.go", in_repo=False)
    generated = finding(path="", line=1)
    assert position_url(GITHUB, report(outside, generated), outside) == ""
    assert position_url(GITHUB, report(generated), generated) == ""
    tree = report(finding(), head=Revision("working tree", "not-a-sha", on=HEAD_SHA))
    assert position_url(GITHUB, tree, tree.findings[0]) == ""


def test_every_position_of_the_summary_links_and_nothing_else_does() -> None:
    found = [
        finding(line=29),
        finding(line=30, status=Status.INDIRECT),
        finding(line=31, status=Status.FIXED),
        finding(line=32, status=Status.ACCEPTED, reason="fine"),
    ]
    body = render(report(*found), links=GITHUB)
    assert len(hrefs(body)) == 4
    assert all(h.startswith("https://github.com/octo-org/app/blob/") for h in hrefs(body))
    assert (
        f"[`app/main.go:29:2`](https://github.com/octo-org/app/blob/{HEAD_SHA}/app/main.go#L29)"
        in body
    )


def test_without_a_repository_positions_stay_plain() -> None:
    body = render(report(finding(), finding(status=Status.FIXED)))
    assert hrefs(body) == []
    assert "- `app/main.go:29:2` in `grab`" in body
