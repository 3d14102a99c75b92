"""The thread beside the compile and the time-to-review line."""

from __future__ import annotations

import sys
import time

import pytest

from escape_guard.action.ahead import Beside, Clock, process_start


def test_beside_hands_back_the_result_or_the_error() -> None:
    assert Beside(lambda: 42).result() == 42

    def broken() -> int:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        Beside(broken).result()


def test_beside_restores_the_switch_interval() -> None:
    before = sys.getswitchinterval()
    seen = Beside(sys.getswitchinterval).result()
    assert seen is not None and seen < before
    assert sys.getswitchinterval() == before


def test_the_process_started_before_now() -> None:
    now = time.monotonic()
    assert now - 600 < process_start() <= now


def test_the_line_splits_what_follows_the_compile() -> None:
    clock = Clock(started=100.0)
    clock.compile_start, clock.compile_end = 100.3, 101.0
    # Four reads while compiling; after it: a write, a pause, two writes; 0.1 s of the rest.
    requests = [(100.4, 100.5), (100.5, 100.6), (100.6, 100.7), (100.7, 101.1)]
    requests += [(101.2, 101.4), (102.4, 102.5), (102.5, 102.6)]
    line = clock.line(102.6, requests, [(101.4, 102.4)], ahead=4)
    assert line == (
        "time to review 2.60 s: start-up 0.30 s, compile 0.70 s, then 1.60 s: API 0.50 s, "
        "pauses 1.00 s, the rest 0.10 s; 7 requests, 4 of them read ahead "
        "(3 answered before the compile ended)"
    )


def test_without_a_compile_the_run_is_all_start_up_and_after() -> None:
    clock = Clock(started=10.0)
    line = clock.line(10.5, [(10.1, 10.3)], [], ahead=0)
    assert line.startswith("time to review 0.50 s: start-up 0.00 s, compile 0.00 s, then 0.50 s")
