"""One action run's context: its environment, inputs, event, workspace, runner and clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from escape_guard.action.ahead import Beside, Clock
from escape_guard.action.event import Event
from escape_guard.action.inputs import Inputs
from escape_guard.action.workflow import Runner

if TYPE_CHECKING:
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
    """What every step of a run reads."""

    env: dict[str, str]
    inputs: Inputs
    event: Event
    workspace: str
    runner: Runner
    clock: Clock
    ahead: Beside[Api | None] | None = None  # the publisher's client, reading while it compiles


def counts(ctx: Context) -> bool:
    """Whether this run keeps the count badge: asked for, and a push to the default branch
    (the branch whose count the badge shows; pull requests would count unmerged code)."""
    return bool(ctx.inputs.badge) and ctx.event.to_default_branch
