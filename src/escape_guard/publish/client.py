"""The REST client: PyGithub's requester with retries, pacing and one-line errors.

Requests go through ``Github.requester`` with raw JSON, not PyGithub's object model:
its list items are lazy, and reading a key GitHub omits (``in_reply_to_id`` on a
thread's first comment) costs one GET per item. Every failure becomes an
``ApiFailure`` whose message names the request and GitHub's answer, never the token.
"""

from __future__ import annotations

import os
import re
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NamedTuple

import github
import requests
from github.GithubException import GithubException

_MAX_PAGES = 100  # 10,000 items at 100 a page: more than any pull request the bot talks to
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
# GitHub asks an integration that makes many content-creating requests to wait a second
# between them; it asks nothing of a handful. A run's first writes go out at once, the rest
# (a big pull request's annotation batches) a backoff apart.
UNPACED_WRITES = 5
READ_ONLY_MESSAGE = "Resource not accessible by integration"


class Settings(NamedTuple):
    """How patient the client is. ``backoff`` is the unit of every wait, in seconds: the
    retries' and the pause between writes after the first ``UNPACED_WRITES``."""

    attempts: int = 5
    backoff: float = 1.0
    timeout: int = 30


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """``ESCAPE_GUARD_RETRY_BACKOFF`` (seconds, default 1; tests use 0) sets the backoff."""
    raw = (os.environ if env is None else env).get("ESCAPE_GUARD_RETRY_BACKOFF", "").strip()
    try:
        backoff = float(raw) if raw else Settings().backoff
    except ValueError:
        backoff = Settings().backoff
    return Settings(backoff=max(backoff, 0.0))


@dataclass
class Stats:
    """Where a client's time went, as (start, end) spans on the ``time.monotonic`` clock: its
    requests (their retries' waits included) and its pauses between writes."""

    requests: list[tuple[float, float]] = field(default_factory=list)
    pauses: list[tuple[float, float]] = field(default_factory=list)
    ahead: int = 0  # how many of the requests were read ahead

    @property
    def last_answer(self) -> float:
        return self.requests[-1][1] if self.requests else 0.0


class ApiFailure(Exception):
    """A request GitHub refused or that kept failing after the retries."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0])

    @property
    def read_only(self) -> bool:
        """The token may not write here (a fork's GITHUB_TOKEN, or a missing permission)."""
        return self.status == 403 and READ_ONLY_MESSAGE.lower() in self.message.lower()


def _retry(settings: Settings) -> github.GithubRetry:
    # GithubRetry retries 5xx, and 403s that carry Retry-After or a rate-limit message.
    # PATCH and DELETE are added to its methods: editing and deleting comments are
    # idempotent. Waits are bounded so a job never hangs on one request.
    unit = settings.backoff
    return github.GithubRetry(
        total=settings.attempts - 1,
        backoff_factor=unit,
        backoff_max=60 * unit,
        secondary_rate_wait=60 * unit,  # GitHub asks for at least a minute without Retry-After
        max_rate_limit_wait=600 * unit,
        retry_after_max=max(int(300 * unit), 1),
        raise_on_status=False,  # the last answer becomes the error, with GitHub's message
        allowed_methods=frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"}),
    )


class Api:
    """JSON requests to one GitHub API with the bot's token."""

    def __init__(self, api_url: str, token: str, settings: Settings | None = None) -> None:
        settings = settings or settings_from_env()
        self._token = token
        self.api_url = api_url.rstrip("/")
        self.writes = 0  # writes GitHub accepted
        self.stats = Stats()
        self._attempts = settings.attempts
        self._pause = settings.backoff
        self._sent_writes = 0
        self._last_write = 0.0
        self._ahead: dict[str, list[dict[str, Any]] | ApiFailure] = {}
        self._github = github.Github(
            auth=github.Auth.Token(token) if token else None,
            base_url=self.api_url,
            timeout=settings.timeout,
            per_page=100,
            retry=_retry(settings),
            # Pacing is this class's (_paced): reads go out at once, writes after a few.
            seconds_between_requests=0,
            seconds_between_writes=0,
        )

    def read_ahead(self, paths: Iterable[str]) -> None:
        """Read these lists now, while something else runs; ``get_list`` answers each from
        what was read, once. A read that failed fails there, as it would have then."""
        before = len(self.stats.requests)
        for path in paths:
            try:
                self._ahead[path] = list(self.get_list(path))
            except ApiFailure as failure:
                self._ahead[path] = failure
        self.stats.ahead += len(self.stats.requests) - before

    def get_list(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, following ``Link: rel="next"``."""
        ahead = self._ahead.pop(path, None)
        if isinstance(ahead, ApiFailure):
            raise ahead
        if ahead is not None:
            yield from ahead
            return
        url: str | None = path
        parameters: dict[str, Any] | None = {"per_page": 100}
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            headers, data = self._call("GET", url, parameters=parameters)
            yield from data if isinstance(data, list) else []
            url, parameters = _next_page(headers), None

    def get(self, path: str) -> dict[str, Any]:
        return self._object(self._call("GET", path)[1])

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._object(self._call("POST", path, body=body)[1])

    def patch(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._object(self._call("PATCH", path, body=body)[1])

    def delete(self, path: str) -> None:
        self._call("DELETE", path)

    def close(self) -> None:
        self._github.close()

    def _call(
        self,
        verb: str,
        url: str,
        *,
        parameters: dict[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> tuple[dict[str, Any], Any]:
        requester = self._github.requester
        payload = None if body is None else dict(body)
        self._paced(verb)
        start = time.monotonic()
        try:
            answer = requester.requestJsonAndCheck(verb, url, parameters=parameters, input=payload)
        except GithubException as error:
            message = _describe(verb, url, error, self._attempts)
            raise ApiFailure(self._redact(message), status=error.status) from None
        except (requests.RequestException, OSError) as error:
            problem = f"{type(error).__name__}: {error}"
            message = f"{verb} {_path(url)}: could not reach {self.api_url}: {problem}"
            raise ApiFailure(self._redact(message)) from None
        finally:
            end = time.monotonic()
            self.stats.requests.append((start, end))
            if verb != "GET":
                self._last_write = end
        self.writes += verb != "GET"
        return answer

    def _paced(self, verb: str) -> None:
        """Wait before a write once the run has sent ``UNPACED_WRITES`` of them."""
        if verb == "GET":
            return
        self._sent_writes += 1
        if self._sent_writes <= UNPACED_WRITES:
            return
        start = time.monotonic()
        wait = self._last_write + self._pause - start
        if wait > 0:
            time.sleep(wait)
            self.stats.pauses.append((start, time.monotonic()))

    def _object(self, data: Any) -> dict[str, Any]:
        return data if isinstance(data, dict) else {}

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def _next_page(headers: Mapping[str, Any]) -> str | None:
    found = _LINK_NEXT.search(str(headers.get("link", "")))
    return found.group(1) if found else None


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path or url


def _describe(verb: str, url: str, error: GithubException, attempts: int) -> str:
    """One line: ``POST /repos/o/r/pulls/7/reviews: 422 Unprocessable Entity (…)``."""
    data = error.data if isinstance(error.data, dict) else {}
    message = str(data.get("message") or error.message or "").strip()
    details = [_error_text(e) for e in data.get("errors") or [] if _error_text(e)]
    # Retried answers reach here without their body (the retry logic read it): a 5xx, or
    # a rate limit that did not lift.
    if error.status >= 500 or (error.status in (403, 429) and not message):
        details.append(f"after {attempts} attempts")
    text = f"{verb} {_path(url)}: {error.status} {message or _phrase(error.status)}"
    return " ".join((text + (f" ({'; '.join(details)})" if details else "")).split())


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "no message"


def _error_text(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("message") or item.get("code") or "")
    return str(item)
