"""Links from a report's positions to the lines on GitHub.

A position links to its line at the head commit, a fixed finding's to its line at the merge
base (the side its path and line belong to)::

    https://github.com/octo-org/app/blob/<sha>/app/main.go#L29

The server is ``GITHUB_SERVER_URL``, so GitHub Enterprise Server works. Only text that
cannot break a Markdown link reaches one: the path and the repository are percent-encoded,
and a server URL or a SHA that does not look like one gives no links at all.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import quote

from escape_guard.model import Finding, Report, Status

DEFAULT_SERVER = "https://github.com"
_SERVER = re.compile(r"^https?://[A-Za-z0-9.\-]+(?::\d+)?(?:/[A-Za-z0-9._~\-/]*)?$")
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_REPOSITORY = re.compile(r"^[^/\s]+/[^/\s]+$")


class Links(NamedTuple):
    """A repository on a GitHub server, the context a position needs to become a link."""

    server: str  # "https://github.com", "https://ghe.example.com"
    repository: str  # "owner/name"

    def blob(self, sha: str, path: str, line: int) -> str:
        """The URL of LINE of PATH at commit SHA."""
        owner, name = (quote(part, safe="") for part in self.repository.split("/", 1))
        anchor = f"#L{line}" if line > 0 else ""
        return f"{self.server}/{owner}/{name}/blob/{sha}/{quote(path, safe='/')}{anchor}"


def links(server: str, repository: str) -> Links | None:
    """Links for REPOSITORY on SERVER (empty: github.com); None when either looks wrong."""
    server = (server.strip() or DEFAULT_SERVER).rstrip("/")
    repository = repository.strip()
    if not _SERVER.match(server) or not _REPOSITORY.match(repository):
        return None
    return Links(server, repository)


def position_url(found: Links | None, report: Report, finding: Finding) -> str:
    """The URL of FINDING's line: at the head, or at the merge base for a fixed one; or ""."""
    record = finding.record
    sha = report.merge_base if finding.status is Status.FIXED else report.head.sha
    if found is None or not record.in_repo or not record.path or not _SHA.match(sha):
        return ""
    return found.blob(sha, record.path, record.line)
