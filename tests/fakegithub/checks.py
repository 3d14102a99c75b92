"""Check runs: create, update (annotations accumulate), list for a ref, annotations."""

from __future__ import annotations

from typing import Any

from . import shapes
from .protocol import Ctx, GitHubError, Handler, Reply, not_found
from .state import CheckRun, Pull

# Check-run output limits: the schema caps characters, GitHub's model also caps bytes.
_OUTPUT_LIMIT = 65535


def _check_output(output: dict[str, Any]) -> None:
    for key in ("summary", "text"):
        value = output.get(key)
        if value is not None and len(value.encode()) > _OUTPUT_LIMIT:
            message = f"{key} exceeds a maximum bytesize of {_OUTPUT_LIMIT}"  # observed wording
            error = {"resource": "CheckRun", "code": "custom", "field": key, "message": message}
            raise GitHubError(422, "Validation Failed", errors=[error], violation=True)
    for note in output.get("annotations", []):
        if note["end_line"] < note["start_line"]:
            raise _invalid("an annotation's end_line is before its start_line.")
        columns = "start_column" in note or "end_column" in note
        if columns and note["start_line"] != note["end_line"]:
            # Documented: columns are only supported when start_line equals end_line.
            raise _invalid("start_column and end_column need start_line == end_line.")


def _invalid(sentence: str) -> GitHubError:
    return GitHubError(422, f"Invalid request.\n\n{sentence}", violation=True)


def _apply(ctx: Ctx, run: CheckRun, body: dict[str, Any]) -> None:
    """Validate BODY against RUN's would-be state, then change RUN."""
    output = body.get("output")
    if output is not None:
        _check_output(output)
    # Documented: giving a conclusion sets the status to completed.
    status = "completed" if "conclusion" in body else body.get("status", run.status)
    conclusion = body.get("conclusion", run.conclusion)
    if status == "completed" and conclusion is None:
        raise _invalid('"conclusion" wasn\'t supplied.')
    for key in ("name", "external_id", "details_url", "started_at", "completed_at"):
        if key in body:
            setattr(run, key, body[key])
    run.status, run.conclusion = status, conclusion
    if status == "completed" and run.completed_at is None:
        run.completed_at = ctx.state.clock.now()
    if output is not None:
        run.output.update({k: output[k] for k in ("title", "summary", "text") if k in output})
        run.annotations.extend(output.get("annotations", []))


def create(ctx: Ctx) -> Reply:
    """POST /check-runs; the head SHA must be a commit the fake knows."""
    repo, body = ctx.repo(), ctx.body
    if body["head_sha"] not in ctx.state.commits(repo):
        raise GitHubError(422, f"No commit found for SHA: {body['head_sha']}")
    run = CheckRun(
        id=ctx.state.new_id(),
        repo=repo,
        name=body["name"],
        head_sha=body["head_sha"],
        status="queued",
        conclusion=None,
        started_at=ctx.state.clock.now(),
        completed_at=None,
        external_id=None,
        details_url=None,
        check_suite_id=_suite(ctx, repo.full_name, body["head_sha"]),
    )
    _apply(ctx, run, body)
    ctx.state.check_runs[run.id] = run
    return Reply(
        201, _json(ctx, run), location=f"{ctx.api}/repos/{repo.full_name}/check-runs/{run.id}"
    )


def _suite(ctx: Ctx, repo: str, sha: str) -> int:
    for run in ctx.state.check_runs.values():
        if run.repo.full_name == repo and run.head_sha == sha:
            return run.check_suite_id
    return ctx.state.new_id()


def update(ctx: Ctx) -> Reply:
    run = _run(ctx)
    _apply(ctx, run, ctx.body)
    return Reply(body=_json(ctx, run))


def get(ctx: Ctx) -> Reply:
    return Reply(body=_json(ctx, _run(ctx)))


def list_annotations(ctx: Ctx) -> Reply:
    run = _run(ctx)
    return Reply(items=[shapes.annotation(run, a) for a in run.annotations])


def list_for_ref(ctx: Ctx) -> Reply:
    """GET /commits/{ref}/check-runs: REF is a SHA or a branch (``filter`` defaults to latest)."""
    repo, ref = ctx.repo(), ctx.params["ref"]
    sha = ctx.state.resolve(repo, ref) or ref
    runs = [r for r in ctx.state.check_runs.values() if r.repo is repo and r.head_sha == sha]
    if "check_name" in ctx.query:
        runs = [r for r in runs if r.name == ctx.query["check_name"]]
    if "status" in ctx.query:
        runs = [r for r in runs if r.status == ctx.query["status"]]
    if ctx.query.get("filter", "latest") == "latest":
        latest = {r.name: r for r in sorted(runs, key=lambda r: r.id)}
        runs = list(latest.values())
    runs.sort(key=lambda r: r.id, reverse=True)
    return Reply(items=[_json(ctx, r) for r in runs], wrap="check_runs")


def _run(ctx: Ctx) -> CheckRun:
    run = ctx.state.check_runs.get(ctx.id("check_run_id"))
    if run is None or run.repo is not ctx.repo():
        raise not_found()
    return run


def _pulls(ctx: Ctx) -> list[Pull]:
    return list(ctx.state.pulls.values())


def _json(ctx: Ctx, run: CheckRun) -> dict[str, Any]:
    pulls = [p for p in _pulls(ctx) if p.repo is run.repo and p.head_sha == run.head_sha]
    return shapes.check_run(ctx.api, run, pulls)


HANDLERS: dict[str, Handler] = {
    "checks/create": create,
    "checks/update": update,
    "checks/get": get,
    "checks/list-annotations": list_annotations,
    "checks/list-for-ref": list_for_ref,
}
