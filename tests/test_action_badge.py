"""The count badge on pushes, through the real `escape-guard action` and the fake GitHub."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.action_harness import REPOSITORY, ActionHarness
from tests.conftest import ROOT
from tests.fakegithub import FakeGitHub
from tests.test_action_e2e import GO_MOD, LIB, NEW_FUNC
from tests.test_action_metadata import load_yaml
from tests.test_render_badge import ENDPOINT_SCHEMA

pytestmark = pytest.mark.go

# A package the pushes never touch, with one heap escape: counted only when every package is.
OTHER = "package other\n\nvar keep *int\n\n// Keep keeps n.\nfunc Keep(n int) {\n\tv := n\n\tkeep = &v\n}\n"  # noqa: E501
BADGE = ".escape-guard/heap-escapes.json"


@pytest.fixture
def gh(tmp_path: Path, go_env: dict[str, str], fake_github: FakeGitHub) -> ActionHarness:
    harness = ActionHarness(tmp_path, go_env, fake_github)
    harness.origin.commit({"go.mod": GO_MOD, "svc.go": LIB, "other/other.go": OTHER}, "base")
    return harness


def _push(gh: ActionHarness, files: dict[str, str], *, branch: str = "main") -> dict[str, Any]:
    before = gh.origin.git("rev-parse", "HEAD")
    after = gh.origin.commit(files, f"push to {branch}")
    gh.server.add_commit(REPOSITORY, after)
    payload = gh.event("push")
    payload.update(before=before, after=after, ref=f"refs/heads/{branch}")
    payload["repository"].update(full_name=REPOSITORY, default_branch="main")
    return payload


def _badge(workspace: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((workspace / BADGE).read_text(encoding="utf-8"))
    jsonschema.validate(document, ENDPOINT_SCHEMA)
    return document


def test_push_to_the_default_branch_writes_the_count_badge(gh: ActionHarness) -> None:
    result = gh.run(
        "push", _push(gh, {"svc.go": LIB + NEW_FUNC}), inputs={"comment": "off", "badge": BADGE}
    )
    assert result.code == 1, result.stdout + result.stderr  # the new escape still fails
    expected = {"schemaVersion": 1, "label": "heap escapes", "message": "2 (+1)"}
    assert _badge(result.workspace) == {**expected, "color": "orange"}
    assert result.outputs["escape-count"] == "2"
    assert json.loads(result.outputs["badge-json"]) == _badge(result.workspace)
    assert result.outputs["new-escapes"] == "1"

    # A push without Go changes still counts the whole repository: the same two escapes.
    result = gh.run(
        "push", _push(gh, {"README.md": "docs\n"}), inputs={"comment": "off", "badge": BADGE}
    )
    assert result.code == 0, result.stdout + result.stderr
    assert _badge(result.workspace)["message"] == "2 (±0)"
    assert _badge(result.workspace)["color"] == "green"
    assert result.outputs["escape-count"] == "2"


def test_no_badge_off_the_default_branch(gh: ActionHarness) -> None:
    gh.origin.git("switch", "--quiet", "-c", "feature")
    payload = _push(gh, {"svc.go": LIB + NEW_FUNC}, branch="feature")
    result = gh.run("push", payload, inputs={"comment": "off", "badge": BADGE})
    assert result.code == 1
    assert not (result.workspace / BADGE).exists()
    assert result.outputs["escape-count"] == "" and result.outputs["badge-json"] == ""
    assert "default branch only" in result.stdout


@pytest.mark.parametrize("path", ["/tmp/badge.json", "../badge.json"])
def test_a_badge_outside_the_workspace_is_a_usage_error(gh: ActionHarness, path: str) -> None:
    result = gh.run("push", _push(gh, {"README.md": "x\n"}), inputs={"badge": path})
    assert result.code == 2
    assert "input badge" in result.stdout and "relative" in result.stdout
    assert "Traceback" not in result.stderr


def _publish_script() -> str:
    workflow = load_yaml(ROOT / "examples" / "workflows" / "push.yml")
    (step,) = [
        s
        for s in workflow["jobs"]["escapes"]["steps"]
        if s.get("name") == "Publish the heap-escape badge"
    ]
    assert step["env"] == {"BADGE": "${{ steps.escapes.outputs.badge-json }}"}
    script: str = step["run"]
    return script


def test_push_workflow_publishes_the_badge_on_a_badges_branch(
    gh: ActionHarness,
) -> None:
    """The example's publishing step, run by bash in a clone of a real origin."""
    workspace = gh.clone()
    script = _publish_script()
    shown = []
    for message in ("2 (+1)", "2 (±0)", "2 (±0)"):
        document = {"schemaVersion": 1, "label": "heap escapes", "message": message}
        env = {**gh.env, "BADGE": json.dumps(document), "GITHUB_SHA": "abc"}
        subprocess.run(["bash", "-e", "-c", script], cwd=workspace, env=env, check=True)
        shown.append(gh.origin.git("show", "badges:heap-escapes.json"))
    assert [json.loads(text)["message"] for text in shown] == ["2 (+1)", "2 (±0)", "2 (±0)"]
    # One commit per change, on a branch of its own holding the badge only.
    assert gh.origin.git("rev-list", "--count", "badges") == "2"
    assert gh.origin.git("ls-tree", "--name-only", "badges") == "heap-escapes.json"
    unrelated = subprocess.run(
        ["git", "-C", str(gh.origin.path), "merge-base", "main", "badges"],
        capture_output=True,
        check=False,
    )
    assert unrelated.returncode == 1  # no history shared with main
