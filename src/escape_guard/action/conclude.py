"""After the compile: the job summary, the step outputs, the reports, publishing, the exit code.

Imported beside the compile (``_read_ahead`` runs in the thread ``Context.ahead`` holds), so
that the renderers, the publisher and PyGithub load while the go command works; ``run``
imports it only once the report exists.
"""

from __future__ import annotations

import os
import time

from escape_guard.action.context import DEFAULT_API_URL, EMPTY_OUTPUTS, OUTPUT_DIR, Context, counts
from escape_guard.action.workflow import MAX_STEP_SUMMARY
from escape_guard.config import failing
from escape_guard.errors import EscapeGuardError, ExitCode, GitHubError
from escape_guard.model import Finding, Report
from escape_guard.publish import Options, Target, publish, publish_failure, reads
from escape_guard.publish.client import Api
from escape_guard.render import badge, markdown, sarif
from escape_guard.render import json as json_report
from escape_guard.render.links import DEFAULT_SERVER, links


def target(ctx: Context, head_sha: str) -> Target:
    """Where and as whom to publish: the API, the token, the repository, the pull request."""
    env = ctx.env
    server = env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER
    run_id = env.get("GITHUB_RUN_ID", "")
    run_url = f"{server}/{ctx.event.repository}/actions/runs/{run_id}" if run_id else ""
    return Target(
        api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
        token=ctx.inputs.github_token,
        repository=ctx.event.repository,
        head_sha=head_sha,
        pull_number=ctx.inputs.pull_request or ctx.event.pull_number,
        run_url=run_url,
        server_url=server,
    )


def _options(ctx: Context) -> Options:
    return Options(
        comment=ctx.inputs.comment,
        max_inline_comments=ctx.inputs.max_inline_comments,
        include_indirect=ctx.inputs.include_indirect,
        fail_on=ctx.inputs.fail_on,
    )


def publishes(ctx: Context) -> bool:
    return bool(ctx.inputs.github_token and ctx.event.repository)


def _can_publish(ctx: Context) -> bool:
    if not publishes(ctx):
        ctx.runner.log("no github-token or GITHUB_REPOSITORY: not posting to GitHub")
        return False
    return True


def read_ahead(ctx: Context) -> Api | None:
    """The publisher's client with what the pull request already has read: run beside the
    compile (``Context.ahead``); none when the run does not publish."""
    if not publishes(ctx):
        return None
    where = target(ctx, ctx.event.head)
    try:
        paths = reads(where, _options(ctx))
    except GitHubError:  # a malformed GITHUB_REPOSITORY: the publisher says so later
        return None
    api = Api(where.api_url, where.token)
    api.read_ahead(paths)
    return api


def _api(ctx: Context) -> Api | None:
    return ctx.ahead.result() if ctx.ahead else None


def _timing(ctx: Context, api: Api | None) -> None:
    """The time-to-review line: from the process's start to GitHub's last answer."""
    stats = api.stats if api else None
    end = stats.last_answer if stats and stats.requests else time.monotonic()
    if stats is None:
        ctx.runner.log(ctx.clock.line(end, [], [], 0))
    else:
        ctx.runner.log(ctx.clock.line(end, stats.requests, stats.pauses, stats.ahead))


def conclude(ctx: Context, report: Report) -> int:
    """The run's end once the report exists; the exit code."""
    found = links(ctx.env.get("GITHUB_SERVER_URL", ""), ctx.event.repository)
    ctx.runner.summary(markdown.render_bytes(report, max_bytes=MAX_STEP_SUMMARY, links=found))
    set_outputs(ctx, report)
    commented: frozenset[Finding] = frozenset()
    api = _api(ctx)
    if _can_publish(ctx):
        with ctx.runner.group("Publish"):
            where = target(ctx, report.head.sha)
            outcome = publish(report, where, _options(ctx), log=ctx.runner.log, api=api)
        for message in outcome.messages:
            ctx.runner.command("warning" if outcome.read_only else "notice", message)
        commented = outcome.commented
    _timing(ctx, api)
    # Annotations are the fallback where no inline comment says it (a fork's read-only token).
    ctx.runner.annotate(report, include_indirect=ctx.inputs.include_indirect, skip=commented)
    failed = failing(report, ctx.inputs.fail_on)
    if failed:
        count = len(failed)
        ctx.runner.log(
            f"escape-guard: {count} new heap escape(s); failing (fail-on: {ctx.inputs.fail_on})"
        )
        return int(ExitCode.NEW_ESCAPES)
    return int(ExitCode.OK)


def fail(ctx: Context, exc: EscapeGuardError) -> int:
    """The run's end when no report could be made: said everywhere a report would be."""
    ctx.runner.command("error", exc.message, title="escape-guard could not compare")
    ctx.runner.summary(f"## escape-guard could not compare\n\n```\n{exc.message}\n```\n")
    set_outputs(ctx, None)
    api = _api(ctx)
    if _can_publish(ctx):
        try:
            where = target(ctx, ctx.event.head)
            outcome = publish_failure(
                exc.message, where, _options(ctx), log=ctx.runner.log, api=api
            )
            for message in outcome.messages:
                ctx.runner.command("warning", message)
        except EscapeGuardError as publish_error:
            ctx.runner.command("warning", publish_error.message)
    _timing(ctx, api)
    return int(exc.exit_code)


def set_outputs(ctx: Context, report: Report | None) -> None:
    outputs = dict(EMPTY_OUTPUTS)
    if report is not None:
        directory = os.path.join(ctx.workspace, OUTPUT_DIR)
        os.makedirs(directory, exist_ok=True)
        for name, text in (
            (".gitignore", "*\n"),  # reports for later steps, never files of the repository
            ("report.json", json_report.render(report)),
            ("report.sarif", sarif.render(report)),
        ):
            with open(os.path.join(directory, name), "w", encoding="utf-8") as fh:
                fh.write(text)
        outputs.update(
            {
                "new-escapes": str(len(report.new)),
                "fixed-escapes": str(len(report.fixed)),
                "indirect-escapes": str(len(report.indirect)),
                "report": f"{OUTPUT_DIR}/report.json",
                "sarif": f"{OUTPUT_DIR}/report.sarif",
                **_write_badge(ctx, report),
            }
        )
    ctx.runner.set_outputs(outputs)


def _write_badge(ctx: Context, report: Report) -> dict[str, str]:
    """The badge file and its outputs; none when this run does not keep the badge."""
    if not counts(ctx):
        if ctx.inputs.badge:
            ctx.runner.log("badge: kept on pushes to the default branch only; not written")
        return {}
    text = badge.render(report)
    path = os.path.join(ctx.workspace, ctx.inputs.badge)
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:  # the report and its outputs still get written
        ctx.runner.command("error", f"input badge: cannot write {ctx.inputs.badge}: {exc.strerror}")
        return {}
    found = badge.count(report)
    ctx.runner.log(f"badge: heap escapes {found.message}, written to {ctx.inputs.badge}")
    return {"escape-count": str(found.escapes), "badge-json": text.strip()}
