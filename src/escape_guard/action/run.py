"""``escape-guard action``: one run of the GitHub Action, from the runner's environment.

Whatever happens, the run ends with a job summary, step outputs and a concluded
check: a comparison that cannot be made is a clear failure, never a pending check.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from escape_guard.action.ahead import Beside, Clock
from escape_guard.action.event import Event, read_event
from escape_guard.action.history import ensure_history
from escape_guard.action.inputs import Inputs, read_inputs
from escape_guard.action.ownership import hand_back
from escape_guard.action.workflow import MAX_STEP_SUMMARY, Runner
from escape_guard.config import failing
from escape_guard.config import load as load_config
from escape_guard.errors import EscapeGuardError, ExitCode, GitHubError, UsageError
from escape_guard.git import Git
from escape_guard.judgement.merge import merge_reports
from escape_guard.model import Finding, Report, Revision
from escape_guard.pipeline import DiffOptions, run_diff
from escape_guard.render import badge, markdown, sarif
from escape_guard.render import json as json_report
from escape_guard.render.links import DEFAULT_SERVER, links

if TYPE_CHECKING:
    from escape_guard.publish import Options, Target
    from escape_guard.publish.client import Api

OUTPUT_DIR = ".escape-guard"  # inside the workspace, so later steps on the runner find it
DEFAULT_API_URL = "https://api.github.com"
EMPTY_OUTPUTS = {
    "new-escapes": "0",
    "fixed-escapes": "0",
    "indirect-escapes": "0",
    "report": "",
    "sarif": "",
    "escape-count": "",
    "badge-json": "",
}


class Context(NamedTuple):
    env: dict[str, str]
    inputs: Inputs
    event: Event
    workspace: str
    runner: Runner
    clock: Clock
    ahead: Beside[Api | None] | None = None  # the publisher's client, reading while it compiles


def run_action(env: Mapping[str, str], runner: Runner | None = None) -> int:
    """Run the action once; returns the job's exit code."""
    runner = runner or Runner(env)
    try:
        return _run(env, runner)
    finally:
        # A container action runs as root: what it wrote must not stay root's (ownership.py).
        roots = [env.get("GITHUB_WORKSPACE") or os.getcwd(), env.get("HOME", "")]
        hand_back([root for root in roots if root], runner.log)


def _run(env: Mapping[str, str], runner: Runner) -> int:
    clock = Clock()
    try:
        inputs = read_inputs(env)
        event = read_event(env, inputs)
    except EscapeGuardError as exc:
        runner.command("error", exc.message, title="escape-guard")
        runner.summary(f"## escape-guard could not run\n\n{exc.message}\n")
        runner.set_outputs(EMPTY_OUTPUTS)
        return int(exc.exit_code)
    workspace = env.get("GITHUB_WORKSPACE") or "."
    ctx = Context(_environment(env, inputs), inputs, event, workspace, runner, clock)
    if _publishes(ctx):
        ctx = ctx._replace(ahead=Beside(lambda: _read_ahead(ctx)))
    try:
        report = _report(ctx)
    except EscapeGuardError as exc:
        return _fail(ctx, exc)
    if report is None:
        return int(ExitCode.OK)
    return _conclude(ctx, report)


def _environment(env: Mapping[str, str], inputs: Inputs) -> dict[str, str]:
    """The runner's environment for git and go, fixed up for a container action."""
    result = dict(env)
    # The workspace belongs to another uid than the container's user; without this git
    # stops with "detected dubious ownership". Command-line scope config (GIT_CONFIG_*)
    # is one of the scopes git trusts for safe.directory.
    count = int(result.get("GIT_CONFIG_COUNT", "0") or 0)
    result.update(
        {
            "GIT_CONFIG_COUNT": str(count + 1),
            f"GIT_CONFIG_KEY_{count}": "safe.directory",
            f"GIT_CONFIG_VALUE_{count}": "*",
        }
    )
    # The image says GOTOOLCHAIN=local; the input decides (default: what go.mod asks for).
    result["GOTOOLCHAIN"] = inputs.go_version
    if inputs.go_cache:
        workspace = env.get("GITHUB_WORKSPACE") or "."
        result["GOCACHE"] = _seeded_cache(
            os.path.join(workspace, inputs.go_cache), env.get("GOCACHE", "")
        )
        # The module cache too, and with it the toolchains the go command downloads. Its
        # files are read-only unless -modcacherw: the runner's user could not clean the
        # workspace for the next job's checkout.
        result["GOMODCACHE"] = os.path.join(result["GOCACHE"], "mod")
        result["GOFLAGS"] = " ".join((result.get("GOFLAGS", "").strip() + " -modcacherw").split())
    return result


def _seeded_cache(path: str, image_cache: str) -> str:
    """A user's cache directory; an empty one starts as a copy of the image's (std prebuilt)."""
    path = os.path.abspath(path)
    fresh = not os.path.isdir(path) or not os.listdir(path)
    if fresh and image_cache and os.path.isdir(image_cache):
        shutil.copytree(image_cache, path, dirs_exist_ok=True)
    os.makedirs(path, exist_ok=True)
    # git ignores the cache, which lies in the working tree: the modules' .go files in it are
    # not untracked sources to hide from the builds (the go command refuses to overlay them).
    ignore = os.path.join(path, ".gitignore")
    if not os.path.exists(ignore):
        with open(ignore, "w", encoding="utf-8") as fh:
            fh.write("*\n")
    return path


def _report(ctx: Context) -> Report | None:
    if ctx.inputs.report_path:
        report = _load_report(ctx)
        _check_pull_head(ctx, report)
        return report
    repo = _working_directory(ctx)
    ctx.clock.compiling()
    with ctx.runner.group("Fetch history"):
        git = Git.discover(repo, env=ctx.env)
        if not ctx.event.base:
            ctx.runner.log(
                f"nothing to compare: the {ctx.event.name} event has no base "
                "(a new branch?); set the base input to compare with a branch"
            )
            ctx.runner.summary(
                "## escape-guard\n\nNothing to compare: this push created the "
                "branch, so there is no earlier commit to compare with.\n"
            )
            _set_outputs(ctx, None)
            return None
        ensure_history(git, ctx.event.base, ctx.event.head, log=ctx.runner.log)
    config = load_config(git.root, _config_path(ctx, repo)).with_overrides(
        packages=ctx.inputs.packages or None,
        tags=ctx.inputs.tags or None,
        fail_on=ctx.inputs.fail_on,
    )
    warm = _warms_the_cache(ctx)
    options = DiffOptions(
        repo=repo,
        base=ctx.event.base,
        head=ctx.event.head,
        config=config,
        explain=ctx.inputs.explain and not warm,
        all_packages=ctx.inputs.all_packages or warm or _counts(ctx),
        count_all=_counts(ctx),
        shard=ctx.inputs.shard,
        env=ctx.env,
        pgo=ctx.inputs.pgo,
        profile=ctx.inputs.profile,
        min_heat=ctx.inputs.min_heat,
        platforms=ctx.inputs.platforms,
    )
    with ctx.runner.group("Build and compare"):
        try:
            report = run_diff(
                options, git=git, progress=lambda phase: ctx.runner.log(f"{phase} ...")
            )
        finally:
            ctx.clock.compiled()
    return report._replace(base=Revision(ctx.event.base_ref or report.base.ref, report.base.sha))


def _warms_the_cache(ctx: Context) -> bool:
    """Whether this run compiles every package for the pull requests that start from its commit.

    A push to the default branch with a kept go-cache: a pull request's merge base is then,
    almost always, a commit such a run compiled, so its base is all cache hits. Every package
    is compiled with the flags a base is compiled with, without -m=2 explanations (a cache
    entry of its own): the findings of this run come without them.
    """
    if not (ctx.event.to_default_branch and ctx.inputs.go_cache):
        return False
    ctx.runner.log(
        "a push to the default branch with a kept go-cache: compiling every package, as the "
        "base of the pull requests that start from this commit"
    )
    return True


def _counts(ctx: Context) -> bool:
    """Whether this run keeps the count badge: asked for, and a push to the default branch
    (the branch whose count the badge shows; pull requests would count unmerged code)."""
    return bool(ctx.inputs.badge) and ctx.event.to_default_branch


def _write_badge(ctx: Context, report: Report) -> dict[str, str]:
    """The badge file and its outputs; none when this run does not keep the badge."""
    if not _counts(ctx):
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


def _working_directory(ctx: Context) -> str:
    """The working-directory input as a path; a UsageError unless it is a directory inside."""
    given = ctx.inputs.working_directory
    repo = os.path.join(ctx.workspace, given)
    workspace, real = os.path.realpath(ctx.workspace), os.path.realpath(repo)
    if os.path.commonpath([workspace, real]) != workspace:
        raise UsageError(
            f"input working-directory: {given!r} is outside the workspace ({workspace}); "
            "give a directory of the checked-out repository, relative to the workspace"
        )
    if not os.path.isdir(real):
        what = "is not a directory" if os.path.exists(real) else "does not exist"
        raise UsageError(
            f"input working-directory: {given!r} {what} in the workspace ({workspace}); "
            "check the path, and that actions/checkout ran before this step (its path input)"
        )
    return repo


def _config_path(ctx: Context, repo: str) -> str | None:
    return os.path.join(repo, ctx.inputs.config) if ctx.inputs.config else None


def _load_report(ctx: Context) -> Report:
    """The report(s) named by report-path, merged; refused when they are for another commit."""
    paths = _report_paths(ctx)
    reports = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                reports.append(json_report.load_report(fh.read()))
        except OSError as exc:
            raise UsageError(f"input report-path: cannot read {path}: {exc.strerror}") from exc
    report = merge_reports(reports)
    head = ctx.event.head
    if head and report.head.sha != head:
        raise UsageError(
            f"input report-path: the report is for commit {report.head.sha[:12]}, "
            f"but this run is for {head[:12]}; refusing to post a stale or forged report"
        )
    return report


def _report_paths(ctx: Context) -> list[str]:
    patterns = [p.strip() for p in ctx.inputs.report_path.replace("\n", ",").split(",")]
    paths: list[str] = []
    for pattern in filter(None, patterns):
        full = os.path.join(ctx.workspace, pattern)
        found = sorted(glob.glob(full)) if glob.has_magic(pattern) else [full]
        if not found:
            raise UsageError(f"input report-path: nothing matches {pattern!r} in the workspace")
        paths.extend(found)
    return paths


def _check_pull_head(ctx: Context, report: Report) -> None:
    """The pull request named by an untrusted artifact must be the one the report is about."""
    from escape_guard.publish.client import Api, ApiFailure  # noqa: PLC0415 - see _read_ahead

    target = _target(ctx, report.head.sha)
    if target.pull_number is None or not target.token:
        return
    api = Api(target.api_url, target.token)
    try:
        pull = api.get(f"/repos/{target.repository}/pulls/{target.pull_number}")
    except ApiFailure as failure:
        message = f"cannot read pull request #{target.pull_number}: {failure.message}"
        raise GitHubError(message) from None
    finally:
        api.close()
    head = (pull.get("head") or {}).get("sha", "")
    if head != report.head.sha:
        raise UsageError(
            f"input report-path: the report is for commit {report.head.sha[:12]}, but pull "
            f"request #{target.pull_number} is at {head[:12]}; refusing to post it there"
        )


def _target(ctx: Context, head_sha: str) -> Target:
    from escape_guard.publish import Target  # noqa: PLC0415 - see _read_ahead

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
    from escape_guard.publish import Options  # noqa: PLC0415 - see _read_ahead

    return Options(
        comment=ctx.inputs.comment,
        max_inline_comments=ctx.inputs.max_inline_comments,
        include_indirect=ctx.inputs.include_indirect,
        fail_on=ctx.inputs.fail_on,
    )


def _publishes(ctx: Context) -> bool:
    return bool(ctx.inputs.github_token and ctx.event.repository)


def _can_publish(ctx: Context) -> bool:
    if not _publishes(ctx):
        ctx.runner.log("no github-token or GITHUB_REPOSITORY: not posting to GitHub")
        return False
    return True


def _read_ahead(ctx: Context) -> Api | None:
    """The publisher's client with what the pull request already has read; run beside the
    compile (``ahead``). The publisher and PyGithub are imported here, not at the top, so
    that their import is part of what runs beside it."""
    from escape_guard.errors import GitHubError  # noqa: PLC0415
    from escape_guard.publish import reads  # noqa: PLC0415
    from escape_guard.publish.client import Api  # noqa: PLC0415

    target = _target(ctx, ctx.event.head)
    try:
        paths = reads(target, _options(ctx))
    except GitHubError:  # a malformed GITHUB_REPOSITORY: the publisher says so later
        return None
    api = Api(target.api_url, target.token)
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


def _conclude(ctx: Context, report: Report) -> int:
    found = links(ctx.env.get("GITHUB_SERVER_URL", ""), ctx.event.repository)
    ctx.runner.summary(markdown.render_bytes(report, max_bytes=MAX_STEP_SUMMARY, links=found))
    _set_outputs(ctx, report)
    commented: frozenset[Finding] = frozenset()
    api = _api(ctx)
    if _can_publish(ctx):
        from escape_guard.publish import publish  # noqa: PLC0415 - see _read_ahead

        with ctx.runner.group("Publish"):
            target = _target(ctx, report.head.sha)
            outcome = publish(report, target, _options(ctx), log=ctx.runner.log, api=api)
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


def _fail(ctx: Context, exc: EscapeGuardError) -> int:
    ctx.runner.command("error", exc.message, title="escape-guard could not compare")
    ctx.runner.summary(f"## escape-guard could not compare\n\n```\n{exc.message}\n```\n")
    _set_outputs(ctx, None)
    api = _api(ctx)
    if _can_publish(ctx):
        from escape_guard.publish import publish_failure  # noqa: PLC0415 - see _read_ahead

        try:
            target = _target(ctx, ctx.event.head)
            outcome = publish_failure(
                exc.message, target, _options(ctx), log=ctx.runner.log, api=api
            )
            for message in outcome.messages:
                ctx.runner.command("warning", message)
        except EscapeGuardError as publish_error:
            ctx.runner.command("warning", publish_error.message)
    _timing(ctx, api)
    return int(exc.exit_code)


def _set_outputs(ctx: Context, report: Report | None) -> None:
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
