"""End-to-end: the real `escape-guard action` subprocess, a real repository and Go, fake GitHub."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import cmarkgfm
import pytest

from tests.action_harness import REPOSITORY, TOKEN, ActionHarness
from tests.fakegithub import FakeGitHub

pytestmark = pytest.mark.go

GO_MOD = "module example.com/svc\n\ngo 1.21\n"
LIB = """package svc

// Buffer is a reusable byte buffer.
type Buffer struct{ data []byte }

// Len reports the buffer's length.
func (b *Buffer) Len() int {
	return len(b.data)
}

// Sum adds numbers without allocating.
func Sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}
"""
# The pull request adds a function whose local escapes through a global: one new escape.
NEW_FUNC = """
var lastSize *int

// Track remembers the size of the latest request.
func Track(size int) {
	s := size
	lastSize = &s
}
"""
FIXED_FUNC = NEW_FUNC.replace("\tlastSize = &s\n", "\t_ = s\n")
KEEP_LINE = LIB.count("\n") + NEW_FUNC.split("\n").index("\ts := size") + 1


@pytest.fixture
def gh(tmp_path: Path, go_env: dict[str, str], fake_github: FakeGitHub) -> ActionHarness:
    harness = ActionHarness(tmp_path, go_env, fake_github)
    harness.origin.commit({"go.mod": GO_MOD, "svc.go": LIB}, "base")
    harness.origin.git("switch", "--quiet", "-c", "feature")
    return harness


def _push_new_escape(gh: ActionHarness) -> dict[str, object]:
    gh.origin.commit({"svc.go": LIB + NEW_FUNC}, "add Keep")
    return gh.open_pull(7)


def test_new_escape_gets_one_inline_comment_and_fails(gh: ActionHarness) -> None:
    result = gh.run("pull_request", _push_new_escape(gh))
    assert result.code == 1, result.stdout + result.stderr
    reviews = gh.server.reviews(REPOSITORY, 7)
    assert len(reviews) == 1
    assert reviews[0].commit_id == gh.origin.git("rev-parse", "feature")
    comments = gh.server.review_comments(REPOSITORY, 7)
    assert [(c.path, c.line, c.side) for c in comments] == [("svc.go", KEEP_LINE, "RIGHT")]
    assert "`s`" in comments[0].body and "Track" in comments[0].body
    assert "<details>" in comments[0].body  # the compiler's explanation, folded
    assert len(gh.server.issue_comments(REPOSITORY, 7)) == 1  # the summary comment
    (check,) = gh.server.check_runs(REPOSITORY)
    assert (check.name, check.status, check.conclusion) == ("escape-guard", "completed", "failure")
    assert result.outputs["new-escapes"] == "1"
    assert result.report()["new"][0]["function"] == "Track"
    assert (result.workspace / result.outputs["sarif"]).is_file()
    # Commented inline: no annotation on the same line of the Files tab.
    assert "::error file=" not in result.stdout
    assert check.annotations == []
    assert "1 new heap escape" in result.summary
    # Every position links to its line at the head commit, on the runner's server.
    head = gh.origin.git("rev-parse", "feature")
    url = f"https://github.example/{REPOSITORY}/blob/{head}/svc.go#L{KEEP_LINE}"
    position = f"[`svc.go:{KEEP_LINE}:2`]({url})"
    (summary,) = gh.server.issue_comments(REPOSITORY, 7)
    for body in (result.summary, summary.body, check.output["summary"]):
        assert position in body
        assert url in _hrefs(body)
    assert TOKEN not in result.stdout + result.stderr + result.summary
    assert gh.server.violations == []  # none sent concurrently, though read beside the compile
    # The pull request's comments, reviews, files and conversation were read ahead, beside
    # the compile; the three writes (review, summary comment, check run) without a pause.
    timing = re.search(
        r"time to review .*pauses (\S+) s.*; (\d+) requests, (\d+) of them", result.stdout
    )
    assert timing and timing.groups() == ("0.00", "7", "4"), result.stdout
    html = cmarkgfm.github_flavored_markdown_to_html(comments[0].body)
    assert "<script" not in html


def test_rerun_and_fixing_push(gh: ActionHarness) -> None:
    payload = _push_new_escape(gh)
    assert gh.run("pull_request", payload).code == 1
    summary_id = gh.server.issue_comments(REPOSITORY, 7)[0].id
    # Re-run of the same commit: nothing new is posted.
    assert gh.run("pull_request", payload).code == 1
    assert len(gh.server.reviews(REPOSITORY, 7)) == 1
    assert len(gh.server.review_comments(REPOSITORY, 7)) == 1
    assert [c.id for c in gh.server.issue_comments(REPOSITORY, 7)] == [summary_id]
    # A new push removes the escape: the comment goes, the summary is edited in place.
    gh.origin.commit({"svc.go": LIB + FIXED_FUNC}, "fix")
    result = gh.run("pull_request", gh.open_pull(7))
    assert result.code == 0, result.stdout
    assert gh.server.review_comments(REPOSITORY, 7) == []
    (summary,) = gh.server.issue_comments(REPOSITORY, 7)
    assert summary.id == summary_id
    assert "No new heap escapes" in summary.body or "0 new" in summary.body
    assert gh.server.check_runs(REPOSITORY)[-1].conclusion == "success"
    assert gh.server.violations == []


def test_fork_pull_request_with_read_only_token(gh: ActionHarness) -> None:
    payload = _push_new_escape(gh)
    gh.server.read_only = True
    result = gh.run("pull_request", payload)
    assert result.code == 1  # the check still concludes from the job's status
    assert gh.server.reviews(REPOSITORY, 7) == []
    assert f"::error file=svc.go,line={KEEP_LINE}" in result.stdout
    assert "1 new heap escape" in result.summary
    assert "fork-safe" in result.stdout and "workflow_run" in result.stdout
    assert "Traceback" not in result.stderr


def test_transient_failures_are_retried(gh: ActionHarness) -> None:
    payload = _push_new_escape(gh)
    gh.server.fail("POST", r"/pulls/7/reviews$", 502, times=2)
    gh.server.secondary_rate_limit("POST", r"/issues/7/comments$", retry_after=1)
    result = gh.run("pull_request", payload)
    assert result.code == 1, result.stdout + result.stderr
    assert len(gh.server.reviews(REPOSITORY, 7)) == 1
    assert len(gh.server.issue_comments(REPOSITORY, 7)) == 1


def test_rejected_inline_comment_falls_back_to_body(gh: ActionHarness) -> None:
    payload = _push_new_escape(gh)
    gh.server.fail(
        "POST",
        r"/pulls/7/reviews$",
        422,
        times=1,
        body={
            "message": "Unprocessable Entity",
            "errors": ["Pull request review thread line must be part of the diff"],
        },
    )
    result = gh.run("pull_request", payload)
    assert result.code == 1
    (review,) = gh.server.reviews(REPOSITORY, 7)
    assert gh.server.review_comments(REPOSITORY, 7) == []
    assert "1 heap escape is on lines GitHub did not accept comments on" in review.body
    assert "the summary comment and the job summary" in review.body
    # No inline comment says it, so the annotation does.
    assert f"::error file=svc.go,line={KEEP_LINE}" in result.stdout


def test_huge_report_stays_within_limits(gh: ActionHarness) -> None:
    many = "\n".join(
        f"func Keep{i}(n int) *int {{\n\tv := n + {i}\n\treturn &v\n}}\n" for i in range(1500)
    )
    gh.origin.commit({"many.go": "package svc\n\n" + many}, "many")
    result = gh.run("pull_request", gh.open_pull(7), inputs={"explain": "false"})
    assert result.code == 1
    assert result.outputs["new-escapes"] == "1500"
    (review,) = gh.server.reviews(REPOSITORY, 7)
    assert len(gh.server.review_comments(REPOSITORY, 7)) == 20  # max-inline-comments
    assert "1480 heap escapes are beyond the limit of 20 inline comments" in review.body
    assert len(review.body) <= 65536
    (summary,) = gh.server.issue_comments(REPOSITORY, 7)
    assert len(summary.body) <= 65536 and "more" in summary.body
    # The job summary may hold 1 MiB: every escape fits, none is cut.
    assert 65536 < len(result.summary.encode()) <= 1024 * 1024
    assert result.summary.count("- [`many.go:") == 1500 and "more" not in result.summary
    # The runner shows 10 error annotations a step: 10 are written, the last says the rest.
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 10
    assert errors[-1].endswith(
        "%0A… and 1470 more new heap escapes, not annotated here (GitHub shows 10 per step): "
        "see the check run or the job summary"
    )
    check = gh.server.check_runs(REPOSITORY)[-1]
    assert len(check.output["summary"]) <= 65535
    assert gh.server.violations == []


def _hrefs(markdown: str) -> list[str]:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown)
    return re.findall(r'href="([^"]*)"', html)


def test_no_go_changes(gh: ActionHarness) -> None:
    gh.origin.commit({"README.md": "docs\n"}, "docs")
    result = gh.run("pull_request", gh.open_pull(7))
    assert result.code == 0
    assert gh.server.reviews(REPOSITORY, 7) == []
    assert "nothing was built" in result.summary
    assert result.outputs["new-escapes"] == "0"


def test_head_that_does_not_build(gh: ActionHarness) -> None:
    gh.origin.commit({"broken.go": "package svc\n\nvar X = undefinedName\n"}, "broken")
    result = gh.run("pull_request", gh.open_pull(7))
    assert result.code == 3
    assert "undefined: undefinedName" in result.summary
    check = gh.server.check_runs(REPOSITORY)[-1]
    assert (check.status, check.conclusion) == ("completed", "failure")
    assert "does not build" in check.output["summary"]


def test_shallow_clone_fetches_the_merge_base(gh: ActionHarness) -> None:
    gh.origin.git("switch", "--quiet", "main")
    gh.origin.commit(
        {"other.go": "package svc\n\n// Other is unrelated.\nfunc Other() {}\n"}, "main moves on"
    )
    gh.origin.git("switch", "--quiet", "feature")
    payload = _push_new_escape(gh)
    workspace = gh.clone(depth=1, ref="feature")
    assert (
        subprocess.run(
            ["git", "-C", str(workspace), "rev-parse", "--is-shallow-repository"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        == "true"
    )
    result = gh.run("pull_request", payload, workspace=workspace)
    assert result.code == 1, result.stdout + result.stderr
    assert "deepening" in result.stdout or "fetching" in result.stdout
    assert result.outputs["new-escapes"] == "1"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the workspace to another uid")
def test_workspace_owned_by_another_user(gh: ActionHarness) -> None:
    payload = _push_new_escape(gh)
    workspace = gh.clone()
    for path in [workspace, *workspace.rglob("*")]:
        os.lchown(path, 4321, 4321)
    probe = subprocess.run(
        ["git", "-C", str(workspace), "status"],
        capture_output=True,
        text=True,
        check=False,
        env=gh.env,
    )
    assert "dubious ownership" in probe.stderr  # the situation a container action is in
    result = gh.run("pull_request", payload, workspace=workspace)
    assert result.code == 1, result.stdout + result.stderr


def test_pull_request_target_is_refused(gh: ActionHarness) -> None:
    payload = _push_new_escape(gh)
    result = gh.run("pull_request_target", payload)
    assert result.code == 2
    assert "pull_request_target" in result.stdout and "fork-safe" in result.stdout
    assert gh.server.requests == []


def test_push_event_compares_before_and_after(gh: ActionHarness) -> None:
    before = gh.origin.git("rev-parse", "HEAD")
    gh.origin.commit({"svc.go": LIB + NEW_FUNC}, "add Keep")
    after = gh.origin.git("rev-parse", "HEAD")
    gh.server.add_commit(REPOSITORY, after)
    payload = gh.event("push")
    payload.update(before=before, after=after, ref="refs/heads/feature")
    result = gh.run("push", payload, inputs={"comment": "off"})
    assert result.code == 1
    assert result.outputs["new-escapes"] == "1"
    assert gh.server.check_runs(REPOSITORY)[-1].conclusion == "failure"
    assert not any(r.method == "POST" and "/pulls/" in r.path for r in gh.server.requests)


def test_the_default_branch_run_leaves_the_next_pull_requests_base(gh: ActionHarness) -> None:
    """The recommended pair: a push run on main saves go-cache, a pull request restores it."""
    workspace, kept = gh.tmp / "work" / "repo", gh.tmp / "kept-cache"
    before = gh.origin.git("rev-parse", "main")
    gh.origin.git("checkout", "--quiet", "main")
    main = LIB + "\n// Twice doubles.\nfunc Twice(n int) int { return 2 * n }\n"
    after = gh.origin.commit({"svc.go": main})
    gh.server.add_commit(REPOSITORY, after)
    push = gh.event("push")
    push.update(before=before, after=after, ref="refs/heads/main")
    push["repository"]["default_branch"] = "main"
    inputs = {"comment": "off", "go-cache": ".escape-guard-cache"}
    result = gh.run("push", push, inputs=inputs, workspace=gh.clone(ref="main", into=workspace))
    assert result.code == 0, result.stdout
    assert "compiling every package" in result.stdout
    shutil.move(workspace / ".escape-guard-cache", kept)  # actions/cache saves it

    gh.origin.git("checkout", "--quiet", "-b", "feature-2")
    gh.origin.commit({"svc.go": main + NEW_FUNC})
    payload = gh.open_pull(8, head="feature-2")
    gh.clone(ref="feature-2", into=workspace)
    shutil.move(kept, workspace / ".escape-guard-cache")  # and a pull request restores it
    inputs = {"go-cache": ".escape-guard-cache"}
    result = gh.run("pull_request", payload, inputs=inputs, workspace=workspace)
    assert result.code == 1, result.stdout
    report = json.loads((workspace / ".escape-guard" / "report.json").read_text())
    assert report["compiled"] == {"base": 0, "head": 1, "other": 0}
    assert [f["message"] for f in report["new"]] == ["moved to heap: s"]


def test_bad_input_is_a_usage_error(gh: ActionHarness) -> None:
    result = gh.run("pull_request", _push_new_escape(gh), inputs={"fail-on": "sometimes"})
    assert result.code == 2
    assert "input fail-on" in result.stdout
    assert "Traceback" not in result.stderr
    assert result.outputs["new-escapes"] == "0"  # outputs are always written


@pytest.mark.parametrize(
    ("directory", "problem"),
    [
        ("../outside", "is outside the workspace"),
        ("/etc", "is outside the workspace"),
        ("services/missing", "does not exist in the workspace"),
        ("go.mod", "is not a directory in the workspace"),
        ("escape", "is outside the workspace"),  # a link pointing out of it
    ],
)
def test_working_directory_outside_or_missing_is_a_usage_error(
    gh: ActionHarness, directory: str, problem: str
) -> None:
    gh.origin.commit({"svc.go": LIB + NEW_FUNC}, "add Keep")
    workspace = gh.clone()
    (workspace / "escape").symlink_to(gh.tmp)
    result = gh.run(
        "pull_request",
        gh.open_pull(7),
        inputs={"working-directory": directory},
        workspace=workspace,
    )
    assert result.code == 2
    error = "::error title=escape-guard could not compare::input working-directory: "
    assert f"{error}{directory!r} {problem}" in result.stdout
    assert "--repo" not in result.stdout + result.stderr
    assert "could not compare" in result.summary


def _workflow_run(gh: ActionHarness, head_sha: str) -> dict[str, object]:
    payload = gh.event("pull_request.opened")  # repository and sender: real shapes
    return {
        "action": "completed",
        "repository": payload["repository"],
        "workflow_run": {"head_sha": head_sha, "pull_requests": [], "event": "pull_request"},
    }


def test_fork_safe_pair(gh: ActionHarness, tmp_path: Path) -> None:
    payload = _push_new_escape(gh)
    head = gh.origin.git("rev-parse", "feature")
    # Part 1: pull_request with a read-only token, comment off: only the report.
    gh.server.read_only = True
    built = gh.run("pull_request", payload, inputs={"comment": "off"})
    assert built.code == 1
    assert gh.server.reviews(REPOSITORY, 7) == []
    artifact = tmp_path / "post"
    artifact.mkdir()
    (artifact / "report.json").write_text((built.workspace / built.outputs["report"]).read_text())
    # Part 2: workflow_run with a write token posts it, without checking out or building.
    gh.server.read_only = False
    posted = gh.run(
        "workflow_run",
        _workflow_run(gh, head),
        workspace=artifact,
        inputs={"report-path": "report.json", "pull-request": "7"},
    )
    assert posted.code == 1, posted.stdout + posted.stderr
    comments = gh.server.review_comments(REPOSITORY, 7)
    assert [(c.path, c.line) for c in comments] == [("svc.go", KEEP_LINE)]
    assert gh.server.violations == []


def test_fork_safe_comment_refuses_a_report_for_another_commit(
    gh: ActionHarness, tmp_path: Path
) -> None:
    payload = _push_new_escape(gh)
    built = gh.run("pull_request", payload, inputs={"comment": "off"})
    artifact = tmp_path / "post"
    artifact.mkdir()
    (artifact / "report.json").write_text((built.workspace / built.outputs["report"]).read_text())
    gh.server.add_pull(REPOSITORY, 8, "1" * 40, "2" * 40, "main", "other", "")
    forged = gh.run(
        "workflow_run",
        _workflow_run(gh, gh.origin.git("rev-parse", "feature")),
        workspace=artifact,
        inputs={"report-path": "report.json", "pull-request": "8"},
    )
    assert forged.code == 2
    assert "refusing to post" in forged.stdout
    assert gh.server.reviews(REPOSITORY, 8) == []


def test_github_enterprise_server_api_prefix(tmp_path: Path, go_env: dict[str, str]) -> None:
    with FakeGitHub(api_prefix="/api/v3") as server:
        gh = ActionHarness(tmp_path, go_env, server)
        gh.origin.commit({"go.mod": GO_MOD, "svc.go": LIB}, "base")
        gh.origin.git("switch", "--quiet", "-c", "feature")
        result = gh.run("pull_request", _push_new_escape(gh))
        assert result.code == 1, result.stdout + result.stderr
        assert server.url.endswith("/api/v3")
        assert len(server.reviews(REPOSITORY, 7)) == 1
        assert server.violations == []  # every request arrived under the /api/v3 prefix


def test_sharded_matrix_then_one_review(gh: ActionHarness, tmp_path: Path) -> None:
    second = (
        "package extra\n\nvar held *int\n\n// Hold keeps n.\nfunc Hold(n int) {\n\theld = &n\n}\n"
    )
    gh.origin.commit({"svc.go": LIB + NEW_FUNC, "extra/extra.go": second}, "two packages")
    payload = gh.open_pull(7)
    merged = tmp_path / "merge"
    for k in (1, 2):
        shard = gh.run(
            "pull_request", payload, inputs={"shard": f"{k}/2", "comment": "off", "fail-on": "none"}
        )
        assert shard.code == 0, shard.stdout + shard.stderr
        assert shard.outputs["new-escapes"] == "1"  # one package each
        (merged / f"shard-{k}").mkdir(parents=True)
        (merged / f"shard-{k}" / "report.json").write_text(
            (shard.workspace / shard.outputs["report"]).read_text()
        )
    result = gh.run(
        "pull_request", payload, workspace=merged, inputs={"report-path": "shard-*/report.json"}
    )
    assert result.code == 1, result.stdout + result.stderr
    assert result.outputs["new-escapes"] == "2"
    assert len(gh.server.reviews(REPOSITORY, 7)) == 1
    assert sorted(c.path for c in gh.server.review_comments(REPOSITORY, 7)) == [
        "extra/extra.go",
        "svc.go",
    ]
    assert gh.server.check_runs(REPOSITORY)[-1].conclusion == "failure"


def test_go_cache_input_seeds_a_workspace_cache(gh: ActionHarness, go_env: dict[str, str]) -> None:
    payload = _push_new_escape(gh)
    workspace = gh.clone()
    result = gh.run(
        "pull_request", payload, workspace=workspace, inputs={"go-cache": ".escape-guard-cache"}
    )
    assert result.code == 1, result.stdout + result.stderr
    cache = workspace / ".escape-guard-cache"
    # Seeded from the image's cache (here: the suite's), then used by the builds.
    assert (cache / "README").is_file()
    assert len(list(cache.rglob("*-d"))) > 10
