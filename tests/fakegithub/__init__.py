"""A fake GitHub REST API for tests: see server.FakeGitHub."""

from .dispatch import Failure, Request, Violation
from .server import BOT, SECONDARY_RATE_LIMIT_MESSAGE, FakeGitHub

__all__ = ["BOT", "SECONDARY_RATE_LIMIT_MESSAGE", "Failure", "FakeGitHub", "Request", "Violation"]
