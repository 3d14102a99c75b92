"""Calls that run in threads of their own while the caller goes on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

_T = TypeVar("_T")


class Task(Generic[_T]):
    """A call running in a thread of its own, started at once."""

    def __init__(self, call: Callable[[], _T]) -> None:
        self._value: _T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,))
        self._thread.start()

    def _run(self, call: Callable[[], _T]) -> None:
        try:
            self._value = call()
        except BaseException as exc:  # handed to whoever asks for the result
            self._error = exc

    def join(self) -> None:
        """Wait for the call to end, whatever it gave."""
        self._thread.join()

    def result(self) -> _T:
        """The call's value; what it raised is raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set: the call returned
