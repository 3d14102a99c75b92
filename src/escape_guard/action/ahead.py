"""Time to review: what the run does while the go command compiles, and where its time went.

The author of a pull request waits from the moment the container starts until the last
answer from GitHub. The compile cannot be shortened here; what does not wait for it can run
beside it: importing the publisher, making its client, reading what the pull request already
has (``publish.reads``). That runs in one thread while the main thread fetches history and
compiles; the writes follow, in order, once the report exists. GitHub asks that requests not
be sent concurrently: the reads are one after the other in that thread, and the first write
is sent only after the thread is done.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

_T = TypeVar("_T")
# While the thread works (imports, mostly: CPU-bound), the main thread, waiting on git and the
# go command, gets the interpreter back this soon once they answer (the default is 5 ms).
_SWITCH_INTERVAL = 0.0005


class Beside(Generic[_T]):
    """WORK run in a thread of its own, started at once; ``result`` waits for it."""

    def __init__(self, work: Callable[[], _T]) -> None:
        self._result: _T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], _T]) -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(_SWITCH_INTERVAL)
        try:
            self._result = work()
        except BaseException as error:  # handed to the caller of result()
            self._error = error
        finally:
            sys.setswitchinterval(interval)

    def result(self) -> _T | None:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def process_start() -> float:
    """When this process started, on the ``time.monotonic`` clock (Linux: from /proc; elsewhere,
    or if /proc cannot be read, now)."""
    now = time.monotonic()
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rpartition(")")[2].split()
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, in ticks
    except (OSError, ValueError, IndexError):
        return now
    return now - max(uptime - started, 0.0)


Span = tuple[float, float]


class Clock:
    """The run's moments on the ``time.monotonic`` clock: start, compile, last answer."""

    def __init__(self, started: float | None = None) -> None:
        self.started = process_start() if started is None else started
        self.compile_start = self.compile_end = 0.0

    def compiling(self) -> None:
        self.compile_start = time.monotonic()

    def compiled(self) -> None:
        self.compile_end = time.monotonic()

    def line(self, end: float, requests: Sequence[Span], pauses: Sequence[Span], ahead: int) -> str:
        """``time to review 1.42 s: start-up 0.31 s, compile 0.84 s, then 0.27 s …``: END is
        the last answer from GitHub, REQUESTS and PAUSES the client's spans, AHEAD how many
        requests were read ahead."""
        if not self.compile_end:  # nothing compiled (a report-path run)
            self.compile_start = self.compile_end = self.started
        end = max(end, self.compile_end)
        after = (self.compile_end, end)
        api, paused = _within(requests, after), _within(pauses, after)
        beside = sum(1 for _, done in requests if done <= self.compile_end)
        tail = end - self.compile_end
        return (
            f"time to review {end - self.started:.2f} s: "
            f"start-up {self.compile_start - self.started:.2f} s, "
            f"compile {self.compile_end - self.compile_start:.2f} s, "
            f"then {tail:.2f} s: API {api:.2f} s, pauses {paused:.2f} s, "
            f"the rest {max(tail - api - paused, 0.0):.2f} s; "
            f"{len(requests)} requests, {ahead} of them read ahead "
            f"({beside} answered before the compile ended)"
        )


def _within(spans: Sequence[Span], window: Span) -> float:
    low, high = window
    return sum(max(0.0, min(end, high) - max(start, low)) for start, end in spans)
