"""Regenerates the GitHub reference data the fake server and the event tests use.

Reads two npm packages (installed under tests/node by scripts/bootstrap.sh) and writes:

- tests/fixtures/github/openapi-subset.json: for each REST operation the bot uses, its method,
  path template, documentation URL, query parameters, request-body JSON schema and documented
  response codes (with the success response's schema), from GitHub's official OpenAPI
  description as packaged by ``@octokit/openapi``. OpenAPI 3.0 ``nullable`` is rewritten as
  JSON Schema so ``jsonschema`` can use the schemas directly.
- tests/fixtures/events/*.json: real webhook payloads from ``@octokit/webhooks-examples``,
  with link-template URLs dropped, plus SOURCES.json telling where each file came from.

Run from the repository root: ``python tests/fakegithub/make_data.py``. The test suite only
reads the generated files, so it never needs npm.
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"
OPENAPI_PACKAGE = "@octokit/openapi"
WEBHOOKS_PACKAGE = "@octokit/webhooks-examples"
SUBSET_PATH = ROOT / "tests" / "fixtures" / "github" / "openapi-subset.json"
EVENTS_DIR = ROOT / "tests" / "fixtures" / "events"

# (method, path template): what the bot calls, then what tests and PyGithub's lazy objects
# may call to read state back.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("GET", "/user"),
    ("GET", "/rate_limit"),
    ("GET", "/repos/{owner}/{repo}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("PATCH", "/repos/{owner}/{repo}/pulls/comments/{comment_id}"),
    ("DELETE", "/repos/{owner}/{repo}/pulls/comments/{comment_id}"),
    ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("POST", "/repos/{owner}/{repo}/check-runs"),
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    # Reading state back (tests, PyGithub completing lazy objects, Repository.get_commit).
    ("GET", "/repos/{owner}/{repo}/commits/{ref}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments"),
    ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations"),
)

# Keys that only document a schema; everything else constrains it and is kept.
_DOC_KEYS = frozenset(
    {
        "description",
        "example",
        "examples",
        "title",
        "deprecated",
        "externalDocs",
        "readOnly",
        "default",
        "x-github",
        "x-github-breaking-changes",
        "x-octokit",
    }
)
_SCHEMA_MAPS = frozenset({"properties", "patternProperties"})


def _to_json_schema(node: Any) -> Any:
    """Strip documentation keys and rewrite OpenAPI 3.0 ``nullable`` as JSON Schema."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DOC_KEYS or key == "nullable":
            continue
        if key in _SCHEMA_MAPS:
            out[key] = {name: _to_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = _to_json_schema(value)
    return _nullable(out) if node.get("nullable") else out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
        return schema
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    raw = spec["paths"][path][method.lower()]
    body = raw.get("requestBody")
    responses: dict[str, Any] = {}
    for status, response in raw["responses"].items():
        entry: dict[str, Any] = {}
        content = response.get("content", {}).get("application/json")
        if status.startswith("2") and content and "schema" in content:
            entry["schema"] = _to_json_schema(content["schema"])
        responses[status] = entry
    return {
        "method": method,
        "path": path,
        "documentation_url": raw["externalDocs"]["url"],
        "query": [p["name"] for p in raw.get("parameters", []) if p["in"] == "query"],
        "request_body": None
        if body is None
        else {
            "required": bool(body.get("required")),
            "schema": _to_json_schema(body["content"]["application/json"]["schema"]),
        },
        "responses": responses,
    }


def _tighten_review_sides(operations: dict[str, Any]) -> str:
    """Give review comments the LEFT/RIGHT enum the single-comment operation documents.

    ``pulls/create-review`` documents ``side`` only by example, while GitHub rejects anything
    but LEFT or RIGHT; ``pulls/create-review-comment`` carries the enum, so copy it from there.
    """
    sides = operations["pulls/create-review-comment"]["request_body"]["schema"]["properties"]
    enum = sides["side"]["enum"]
    review = operations["pulls/create-review"]["request_body"]["schema"]
    comment = review["properties"]["comments"]["items"]["properties"]
    comment["side"]["enum"] = list(enum)
    comment["start_side"]["enum"] = list(enum)
    return (
        "pulls/create-review: comments[].side and comments[].start_side take the enum "
        f"{enum} of pulls/create-review-comment.side (documented there, only by example here)"
    )


_REVIEW_COMMENT_ANSWERS = (
    ("pulls/list-review-comments", "200"),
    ("pulls/list-comments-for-review", "200"),
    ("pulls/get-review-comment", "200"),
    ("pulls/update-review-comment", "200"),
    ("pulls/create-reply-for-review-comment", "201"),
    ("pulls/create-review-comment", "201"),
)


def _nullable_comment_anchors(operations: dict[str, Any]) -> str:
    """Let a review comment's ``line`` and ``position`` be null, as GitHub sends them for
    outdated comments (github/rest-api-description issues 1901 and 5568)."""
    for op_id, status in _REVIEW_COMMENT_ANSWERS:
        schema = operations[op_id]["responses"][status]["schema"]
        props = schema.get("items", schema)["properties"]
        for key in ("line", "position"):
            props[key]["type"] = [props[key]["type"], "null"]
    return (
        "review-comment responses: line and position may be null (outdated comments; "
        "github/rest-api-description#1901)"
    )


def build_subset(node_modules: Path) -> dict[str, Any]:
    """Return the OpenAPI subset document for OPERATIONS."""
    package = node_modules / OPENAPI_PACKAGE
    version = json.loads((package / "package.json").read_text())["version"]
    source = package / "generated" / "api.github.com.deref.json"
    spec = json.loads(source.read_text())
    operations: dict[str, Any] = {}
    for method, path in OPERATIONS:
        op_id = spec["paths"][path][method.lower()]["operationId"]
        operations[op_id] = _operation(spec, method, path)
    adjustments = [_tighten_review_sides(operations), _nullable_comment_anchors(operations)]
    return {
        "source": {
            "package": OPENAPI_PACKAGE,
            "version": version,
            "file": str(source.relative_to(package)),
            "openapi": spec["openapi"],
        },
        "generated_by": "tests/fakegithub/make_data.py",
        "adjustments": adjustments,
        "operations": operations,
    }


# Link templates every repository and user object repeats ("keys_url": ".../keys{/key_id}");
# nothing a bot reads. The plain URLs (url, html_url, clone_url, ...) stay.
_KEPT_URLS = frozenset(
    {
        "url",
        "html_url",
        "clone_url",
        "git_url",
        "ssh_url",
        "svn_url",
        "diff_url",
        "patch_url",
        "issue_url",
        "avatar_url",
        "statuses_url",
        "commits_url",
        "comments_url",
        "review_comments_url",
        "compare",
    }
)


def trim_payload(node: Any) -> Any:
    """Drop link-template URL fields and ``_links``, keeping the payload's shape otherwise."""
    if isinstance(node, list):
        return [trim_payload(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: trim_payload(value)
        for key, value in node.items()
        if key != "_links" and not (key.endswith("_url") and key not in _KEPT_URLS)
    }


def _fork_head(payload: dict[str, Any], fork_owner: str) -> dict[str, Any]:
    """The same pull request opened from a fork: head.repo belongs to ``fork_owner``."""
    out = copy.deepcopy(payload)
    head = out["pull_request"]["head"]
    base_repo = out["pull_request"]["base"]["repo"]
    user = {**head["user"], "login": fork_owner, "id": head["user"]["id"] + 1000}
    user["node_id"] = f"FORK_{user['node_id']}"
    user["url"] = f"https://api.github.com/users/{fork_owner}"
    user["html_url"] = f"https://github.com/{fork_owner}"
    full_name = f"{fork_owner}/{base_repo['name']}"
    repo = copy.deepcopy(base_repo)
    repo.update(
        id=base_repo["id"] + 1000,
        node_id=f"FORK_{base_repo['node_id']}",
        full_name=full_name,
        owner=user,
        fork=True,
        html_url=f"https://github.com/{full_name}",
        url=f"https://api.github.com/repos/{full_name}",
        clone_url=f"https://github.com/{full_name}.git",
        git_url=f"git://github.com/{full_name}.git",
        ssh_url=f"git@github.com:{full_name}.git",
        svn_url=f"https://github.com/{full_name}",
    )
    head.update(label=f"{fork_owner}:{head['ref']}", user=user, repo=repo)
    out["pull_request"]["head"] = head
    return out


def _example(index: list[dict[str, Any]], event: str, action: str | None) -> tuple[int, Any]:
    examples = next(entry["examples"] for entry in index if entry["name"] == event)
    for number, example in enumerate(examples):
        if action is None or example.get("action") == action:
            return number, example
    raise LookupError(f"{WEBHOOKS_PACKAGE} has no {event} example with action {action}")


def _first_branch_push(index: list[dict[str, Any]]) -> tuple[int, Any]:
    examples = next(entry["examples"] for entry in index if entry["name"] == "push")
    for number, example in enumerate(examples):
        if example["ref"].startswith("refs/heads/"):
            return number, example
    raise LookupError(f"{WEBHOOKS_PACKAGE} has no push to a branch")


def build_events(node_modules: Path) -> dict[str, Any]:
    """Return {file name: payload}, SOURCES.json included."""
    package = node_modules / WEBHOOKS_PACKAGE
    version = json.loads((package / "package.json").read_text())["version"]
    index = json.loads((package / "api.github.com" / "index.json").read_text())
    files: dict[str, Any] = {}
    sources: dict[str, Any] = {}

    def put(name: str, event: str, number: int, payload: Any, derived: str | None) -> None:
        files[name] = trim_payload(payload)
        sources[name] = {"event": event, "example": number, "derived": derived}

    for action in ("opened", "synchronize"):
        number, payload = _example(index, "pull_request", action)
        put(f"pull_request.{action}.json", "pull_request", number, payload, None)
        # GitHub documents pull_request_target's payload as pull_request's; the package has
        # no separate examples for it. It matters for forks, so the head comes from one.
        put(
            f"pull_request_target.{action}.json",
            "pull_request",
            number,
            _fork_head(payload, "octo-forker"),
            "pull_request payload with head.repo/head.user moved to the fork octo-forker",
        )
    number, payload = _example(index, "pull_request", "opened")
    fork_note = "head.repo/head.user moved to the fork octo-forker"
    put(
        "pull_request.opened.fork.json",
        "pull_request",
        number,
        _fork_head(payload, "octo-forker"),
        fork_note,
    )
    number, payload = _first_branch_push(index)
    put("push.json", "push", number, payload, None)
    number, payload = _example(index, "workflow_dispatch", None)
    put("workflow_dispatch.json", "workflow_dispatch", number, payload, None)
    number, payload = _example(index, "merge_group", "checks_requested")
    put("merge_group.checks_requested.json", "merge_group", number, payload, None)
    files["SOURCES.json"] = {
        "package": WEBHOOKS_PACKAGE,
        "version": version,
        "file": "api.github.com/index.json",
        "generated_by": "tests/fakegithub/make_data.py",
        "trimmed": "dropped _links and link-template *_url fields; all else is as published",
        "files": sources,
    }
    return files


def _write_json(path: Path, data: Any, *, indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


def main(argv: Iterable[str] | None = None) -> int:
    """Write the OpenAPI subset and the event fixtures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES)
    args = parser.parse_args(None if argv is None else list(argv))
    _write_json(SUBSET_PATH, build_subset(args.node_modules), indent=1)
    for name, payload in build_events(args.node_modules).items():
        _write_json(EVENTS_DIR / name, payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
