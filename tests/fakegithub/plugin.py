"""A pytest fixture for the fake: ``pytest_plugins = ["tests.fakegithub.plugin"]`` in a conftest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A started FakeGitHub; on teardown it fails the test if the fake itself misbehaved."""
    with FakeGitHub() as server:
        yield server
