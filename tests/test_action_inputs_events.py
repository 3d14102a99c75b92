"""The action's inputs and events, read from real webhook payloads."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from escape_guard.action.event import ZERO_SHA, read_event
from escape_guard.action.inputs import Inputs, read_inputs
from escape_guard.action.workflow import Runner, escape_data, escape_property
from escape_guard.errors import UsageError
from escape_guard.model import Status
from tests.action_harness import action_defaults
from tests.factories import finding, record, report

EVENTS = Path(__file__).parent / "fixtures" / "events"


def _env(name: str, event_file: str, tmp_path: Path, **edits: object) -> dict[str, str]:
    payload = json.loads((EVENTS / event_file).read_text())
    payload.update(edits)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": payload["repository"]["full_name"],
        "GITHUB_SHA": "f" * 40,
    }


def test_action_defaults_give_default_inputs() -> None:
    inputs = read_inputs(action_defaults("tok"))
    assert inputs == Inputs(github_token="tok")


def test_the_profile_and_min_heat_inputs() -> None:
    env = {**action_defaults("t"), "INPUT_PROFILE": "cpu.pprof", "INPUT_MIN-HEAT": "2.5%"}
    inputs = read_inputs(env)
    assert (inputs.profile, inputs.min_heat) == ("cpu.pprof", 2.5)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("fail-on", "sometimes", "input fail-on: expected one of new, indirect, none"),
        ("comment", "loud", "input comment: expected one of review, summary, off"),
        ("max-inline-comments", "ten", "input max-inline-comments: expected a whole number"),
        ("max-inline-comments", "-1", "must not be negative"),
        ("explain", "maybe", "input explain: expected true or false"),
        ("go-version", "1.26", "input go-version: expected a Go release such as 1.26.6"),
        ("go-version", "stable", "input go-version: expected a Go release"),
        ("go-version", "go1.26.6+auto", "input go-version: expected a Go release"),
        ("badge", "/srv/badge.json", "input badge: '/srv/badge.json' is not inside the workspace"),
        ("badge", "out/../../b.json", "input badge: .* give a path relative to it"),
        ("min-heat", "hot", "input min-heat: expected a percentage such as 1 or 0.5%"),
        ("min-heat", "150", "input min-heat: expected a percentage from 0 to 100"),
    ],
)
def test_bad_inputs_name_the_input(name: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        read_inputs({**action_defaults("t"), f"INPUT_{name.upper()}": value})


@pytest.mark.parametrize(
    ("value", "gotoolchain"),
    [
        ("", "auto"),
        ("auto", "auto"),
        ("local", "local"),
        ("LOCAL", "local"),
        ("1.26.6", "go1.26.6"),
        ("go1.26.6", "go1.26.6"),
        (" 1.28rc1 ", "go1.28rc1"),
    ],
)
def test_go_version_is_a_gotoolchain(value: str, gotoolchain: str) -> None:
    assert read_inputs({"INPUT_GO-VERSION": value}).go_version == gotoolchain


def test_inputs_with_underscores_and_lists() -> None:
    inputs = read_inputs(
        {
            "INPUT_MAX_INLINE_COMMENTS": "3",
            "INPUT_PACKAGES": "./a/...\n./b",
            "INPUT_TAGS": "x, y",
            "INPUT_INCLUDE-INDIRECT": "TRUE",
        }
    )
    assert (inputs.max_inline_comments, inputs.packages, inputs.tags) == (
        3,
        ("./a/...", "./b"),
        ("x", "y"),
    )
    assert inputs.include_indirect is True


def test_pull_request_event(tmp_path: Path) -> None:
    event = read_event(_env("pull_request", "pull_request.opened.json", tmp_path), Inputs())
    assert (event.base, event.head, event.pull_number) == (
        "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        2,
    )
    assert not event.is_fork


def test_fork_pull_request_event(tmp_path: Path) -> None:
    event = read_event(_env("pull_request", "pull_request.opened.fork.json", tmp_path), Inputs())
    assert event.is_fork
    assert event.head_repository == "octo-forker/Hello-World"


def test_base_input_overrides_the_event(tmp_path: Path) -> None:
    env = _env("pull_request", "pull_request.synchronize.json", tmp_path)
    assert read_event(env, Inputs(base="release")).base == "release"


def test_pull_request_target_is_refused_unless_allowed(tmp_path: Path) -> None:
    env = _env("pull_request_target", "pull_request_target.opened.json", tmp_path)
    with pytest.raises(UsageError, match="fork-safe"):
        read_event(env, Inputs())
    assert read_event(env, Inputs(allow_pull_request_target=True)).pull_number is not None


def test_push_event(tmp_path: Path) -> None:
    env = _env("push", "push.json", tmp_path, before="a" * 40, after="b" * 40)
    event = read_event(env, Inputs())
    assert (event.base, event.head, event.pull_number) == ("a" * 40, "b" * 40, None)


def test_a_push_to_the_default_branch_is_told_apart(tmp_path: Path) -> None:
    env = _env("push", "push.json", tmp_path, before="a" * 40, after="b" * 40)
    payload = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text())
    default = payload["repository"]["default_branch"]
    assert read_event(env, Inputs()).to_default_branch  # the sample pushes the default branch
    others = ("refs/heads/feature", f"refs/tags/{default}")
    for ref, expected in ((f"refs/heads/{default}", True), *((o, False) for o in others)):
        payload["ref"] = ref
        Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(payload))
        assert read_event(env, Inputs()).to_default_branch is expected


def test_push_to_the_default_branch(tmp_path: Path) -> None:
    """The webhook example pushes to refs/heads/master; its repository's default is master."""
    payload = json.loads((EVENTS / "push.json").read_text())
    assert payload["repository"]["default_branch"] == "master"
    env = _env("push", "push.json", tmp_path, before="a" * 40)
    assert read_event(env, Inputs()).to_default_branch
    env = _env("push", "push.json", tmp_path, before="a" * 40, ref="refs/heads/master-2")
    assert not read_event(env, Inputs()).to_default_branch
    env = _env("push", "push.json", tmp_path, before="a" * 40, ref="refs/tags/master")
    assert not read_event(env, Inputs()).to_default_branch


def test_a_sharded_badge_is_refused() -> None:
    with pytest.raises(UsageError, match="input badge: a shard sees part of the repository"):
        read_inputs({**action_defaults("t"), "INPUT_BADGE": "b.json", "INPUT_SHARD": "1/2"})


def test_push_creating_a_branch_has_no_base(tmp_path: Path) -> None:
    event = read_event(_env("push", "push.json", tmp_path), Inputs())  # before is all zeros
    assert event.base == ""
    assert json.loads((EVENTS / "push.json").read_text())["before"] == ZERO_SHA


def test_merge_group_event(tmp_path: Path) -> None:
    event = read_event(_env("merge_group", "merge_group.checks_requested.json", tmp_path), Inputs())
    assert event.base == "380387fbc80638b734a49e1be1c4dfec1c01b33c"
    assert event.head == "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"
    assert event.base_ref == "main"


def test_workflow_dispatch_event(tmp_path: Path) -> None:
    env = _env("workflow_dispatch", "workflow_dispatch.json", tmp_path)
    assert read_event(env, Inputs()).base == "origin/main"  # the default branch
    assert read_event(env, Inputs(base="v1.2.0")).base == "v1.2.0"
    env = _env("workflow_dispatch", "workflow_dispatch.json", tmp_path, inputs={"base": "dev"})
    assert read_event(env, Inputs()).base == "dev"
    assert read_event(env, Inputs()).head == "f" * 40


def test_workflow_run_needs_a_report(tmp_path: Path) -> None:
    env = _env(
        "workflow_run",
        "workflow_dispatch.json",
        tmp_path,
        workflow_run={"head_sha": "c" * 40, "pull_requests": [{"number": 5}]},
    )
    with pytest.raises(UsageError, match="report-path"):
        read_event(env, Inputs())
    event = read_event(env, Inputs(report_path="r.json"))
    assert (event.head, event.pull_number) == ("c" * 40, 5)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": "x"}, "unsupported event issues"),
        ({"GITHUB_EVENT_NAME": "push"}, "GITHUB_EVENT_PATH is not set"),
        (
            {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": "/nonexistent.json"},
            "cannot read the event payload",
        ),
    ],
)
def test_event_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        read_event(env, Inputs())


def test_workflow_command_escaping() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_annotations_stop_at_what_the_runner_shows_and_say_where_the_rest_is() -> None:
    out = io.StringIO()
    new = [finding(record(line=i, expression=f"v{i}")) for i in range(1, 26)]
    indirect = [f._replace(status=Status.INDIRECT) for f in new[:3]]
    written = Runner({}, out).annotate(report(*new, *indirect), include_indirect=True)
    lines = out.getvalue().splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert (written, len(errors), len(warnings)) == (13, 10, 3)
    assert errors[-1].endswith(
        "v10 is moved to the heap in grab%0A… and 15 more new heap escapes, not annotated here "
        "(GitHub shows 10 per step): see the check run or the job summary"
    )
    assert all("more" not in line for line in [*errors[:-1], *warnings])


def test_warnings_written_before_count_against_the_cap() -> None:
    out = io.StringIO()
    runner = Runner({}, out)
    runner.command("warning", "the token is read-only")
    runner.command("warning", "use the fork-safe workflows")
    indirect = [
        finding(record(line=i, expression=f"v{i}"), status=Status.INDIRECT) for i in range(1, 13)
    ]
    assert runner.annotate(report(*indirect), include_indirect=True) == 8
    warnings = [line for line in out.getvalue().splitlines() if line.startswith("::warning")]
    assert len(warnings) == 10
    assert warnings[-1].endswith(
        "… and 4 more indirect heap escapes, not annotated here "
        "(GitHub shows 10 per step): see the check run or the job summary"
    )


def test_annotations_skip_what_an_inline_comment_says() -> None:
    out = io.StringIO()
    commented, other = finding(record(line=3)), finding(record(line=4, expression="w"))
    written = Runner({}, out).annotate(
        report(commented, other), include_indirect=False, skip={commented}
    )
    assert written == 1
    assert out.getvalue().startswith("::error file=app/main.go,line=4,")


def test_annotations_go_on_the_anchor_line() -> None:
    out = io.StringIO()
    anchored = finding(record(line=8))._replace(anchor=9)
    Runner({}, out).annotate(report(anchored), include_indirect=False)
    assert out.getvalue().startswith("::error file=app/main.go,line=9,title=")


def test_annotations_outputs_and_summary(tmp_path: Path) -> None:
    out = io.StringIO()
    outputs, summary = tmp_path / "out", tmp_path / "summary"
    runner = Runner({"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}, out)
    new = finding(record(path="a,b.go", line=3, expression="v"))
    assert runner.annotate(report(new), include_indirect=False) == 1
    assert out.getvalue().startswith("::error file=a%2Cb.go,line=3,")
    runner.set_outputs({"one": "1", "many": "a\nb"})
    text = outputs.read_text()
    assert text.startswith("one=1\nmany<<ghadelimiter_") and "\na\nb\n" in text
    runner.summary("x" * (2 * 1024 * 1024))
    assert len(summary.read_bytes()) < 1024 * 1024
    assert "1 MiB limit" in summary.read_text()
