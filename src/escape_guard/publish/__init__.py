"""The GitHub side of the action: review, summary comment and check run."""

from escape_guard.publish.github import Options, Outcome, Target, publish, publish_failure, reads

__all__ = ["Options", "Outcome", "Target", "publish", "publish_failure", "reads"]
