"""What to compare, from the event that triggered the workflow."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from escape_guard.action.inputs import Inputs
from escape_guard.errors import UsageError

ZERO_SHA = "0" * 40

SUPPORTED = (
    "pull_request",
    "pull_request_target",
    "push",
    "merge_group",
    "workflow_dispatch",
    "workflow_run",
)
PULL_REQUEST_TARGET_REFUSAL = (
    "refusing to run on pull_request_target: that event runs with a write token and secrets "
    "while escape-guard builds the pull request's code, so a malicious pull request could run "
    "code with your token (go build runs cgo and compiler directives of the checked-out code). "
    "Use the fork-safe pair instead (examples/workflows/fork-safe-build.yml and "
    "fork-safe-comment.yml), or set allow-pull-request-target: true if the workflow only ever "
    "checks out trusted code."
)


class Event(NamedTuple):
    name: str
    repository: str  # owner/name
    base: str  # a SHA or ref to compare against; "" when there is nothing to compare
    head: str  # the SHA to check
    pull_number: int | None = None
    head_repository: str = ""  # owner/name the head lives in (differs for forks)
    base_ref: str = ""  # the branch name, for fetching
    # A push to the repository's default branch: the commit pull requests will start from.
    to_default_branch: bool = False

    @property
    def is_fork(self) -> bool:
        return bool(self.head_repository) and self.head_repository != self.repository


def read_event(env: Mapping[str, str], inputs: Inputs) -> Event:
    """Base and head for the triggering event; UsageError for events it cannot handle."""
    name = env.get("GITHUB_EVENT_NAME", "")
    repository = env.get("GITHUB_REPOSITORY", "")
    if name not in SUPPORTED:
        raise UsageError(
            f"unsupported event {name or '(GITHUB_EVENT_NAME is not set)'}: escape-guard runs on "
            f"{', '.join(SUPPORTED)}"
        )
    payload = _payload(env)
    if name == "pull_request_target" and not inputs.allow_pull_request_target:
        raise UsageError(PULL_REQUEST_TARGET_REFUSAL)
    if name in ("pull_request", "pull_request_target"):
        pr = payload.get("pull_request") or {}
        return Event(
            name,
            repository,
            inputs.base or pr["base"]["sha"],
            pr["head"]["sha"],
            pull_number=int(pr.get("number") or payload["number"]),
            head_repository=((pr["head"].get("repo") or {}).get("full_name") or ""),
            base_ref=pr["base"].get("ref", ""),
        )
    if name == "push":
        before = inputs.base or payload.get("before", "")
        # A new branch has no "before": there is nothing to compare against.
        default = (payload.get("repository") or {}).get("default_branch") or ""
        return Event(
            name,
            repository,
            "" if before == ZERO_SHA else before,
            payload["after"],
            to_default_branch=bool(default) and payload.get("ref") == f"refs/heads/{default}",
        )
    if name == "merge_group":
        group = payload["merge_group"]
        return Event(
            name,
            repository,
            inputs.base or group["base_sha"],
            group["head_sha"],
            base_ref=group.get("base_ref", "").removeprefix("refs/heads/"),
        )
    if name == "workflow_run":
        # The privileged half of the fork-safe pair: it posts a report, it builds nothing.
        if not inputs.report_path:
            raise UsageError(
                "on workflow_run, set the report-path input to the JSON report the "
                "pull_request workflow uploaded (see examples/workflows/"
                "fork-safe-comment.yml)"
            )
        run = payload.get("workflow_run") or {}
        pulls = run.get("pull_requests") or []
        return Event(
            name,
            repository,
            "",
            run.get("head_sha", ""),
            pull_number=int(pulls[0]["number"]) if pulls else None,
        )
    # workflow_dispatch
    base = inputs.base or (payload.get("inputs") or {}).get("base") or ""
    if not base:
        default = (payload.get("repository") or {}).get("default_branch", "")
        base = f"origin/{default}" if default else ""
    head = env.get("GITHUB_SHA", "") or "HEAD"
    return Event(name, repository, base, head)


def _payload(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        raise UsageError(
            "GITHUB_EVENT_PATH is not set: run this inside GitHub Actions "
            "(or use escape-guard diff locally)"
        )
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the event payload {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"the event payload {path} is not a JSON object")
    return data
