"""Calls run in threads of their own."""

from __future__ import annotations

import threading

import pytest

from escape_guard.tasks import Task


def test_a_task_runs_at_once_and_gives_its_value() -> None:
    started = threading.Event()

    def call() -> int:
        started.set()
        return 42

    task = Task(call)
    assert started.wait(5)  # before anyone asks for the result
    assert task.result() == 42


def test_what_a_task_raised_is_raised_to_whoever_asks_for_its_result() -> None:
    def call() -> int:
        raise KeyError("lost")

    task = Task(call)
    task.join()  # waiting does not raise: a result nobody needs can fail quietly
    with pytest.raises(KeyError, match="lost"):
        task.result()
