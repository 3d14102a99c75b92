"""``escape-guard action``: one run of the GitHub Action, from the runner's environment.

Whatever happens, the run ends with a job summary, step outputs and a concluded
check: a comparison that cannot be made is a clear failure, never a pending check.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Mapping
from typing import TYPE_CHECKING

from escape_guard.action.ahead import Beside, Clock
from escape_guard.action.context import EMPTY_OUTPUTS, Context, counts
from escape_guard.action.event import read_event
from escape_guard.action.history import ensure_history
from escape_guard.action.inputs import Inputs, read_inputs
from escape_guard.action.ownership import hand_back
from escape_guard.action.workflow import Runner
from escape_guard.config import load as load_config
from escape_guard.errors import EscapeGuardError, ExitCode, GitHubError, UsageError
from escape_guard.git import Git
from escape_guard.model import Report, Revision
from escape_guard.pipeline import DiffOptions, run_diff

if TYPE_CHECKING:
    from escape_guard.publish.client import Api

# What comes after the compile (action/conclude.py: the renderers, the publisher, PyGithub)
# is imported beside it, in the thread that reads the pull request ahead: see _read_ahead.


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
    ctx = ctx._replace(ahead=Beside(lambda: _read_ahead(ctx)))
    try:
        report = _report(ctx)
    except EscapeGuardError as exc:
        from escape_guard.action.conclude import fail  # noqa: PLC0415 - see _read_ahead

        return fail(ctx, exc)
    if report is None:
        return int(ExitCode.OK)
    from escape_guard.action.conclude import conclude  # noqa: PLC0415 - see _read_ahead

    return conclude(ctx, report)


def _read_ahead(ctx: Context) -> Api | None:
    """Beside the compile: load what concludes the run and read the pull request ahead."""
    from escape_guard.action import conclude  # noqa: PLC0415 - loaded here, beside the compile

    return conclude.read_ahead(ctx)


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
            from escape_guard.action.conclude import set_outputs  # noqa: PLC0415

            set_outputs(ctx, None)
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
        all_packages=ctx.inputs.all_packages or warm or counts(ctx),
        count_all=counts(ctx),
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
    from escape_guard.judgement.merge import merge_reports  # noqa: PLC0415 - report-path only
    from escape_guard.render import json as json_report  # noqa: PLC0415

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
    from escape_guard.action.conclude import target as publish_target  # noqa: PLC0415
    from escape_guard.publish.client import Api, ApiFailure  # noqa: PLC0415

    target = publish_target(ctx, report.head.sha)
    if target.pull_number is None or not target.token:
        return
    # The client that read ahead, once it is done: requests go to GitHub one at a time.
    ahead = ctx.ahead.result() if ctx.ahead else None
    api = ahead or Api(target.api_url, target.token)
    try:
        pull = api.get(f"/repos/{target.repository}/pulls/{target.pull_number}")
    except ApiFailure as failure:
        message = f"cannot read pull request #{target.pull_number}: {failure.message}"
        raise GitHubError(message) from None
    finally:
        if ahead is None:
            api.close()
    head = (pull.get("head") or {}).get("sha", "")
    if head != report.head.sha:
        raise UsageError(
            f"input report-path: the report is for commit {report.head.sha[:12]}, but pull "
            f"request #{target.pull_number} is at {head[:12]}; refusing to post it there"
        )
