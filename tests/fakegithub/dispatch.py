"""One request through the fake: log, authenticate, inject failures, route, validate, answer."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from . import routes, shapes
from .protocol import Ctx, GitHubError, Reply, error_body
from .spec import Operation, Spec
from .state import State

_DOCS = "https://docs.github.com/rest"
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_PER_PAGE, _MAX_PER_PAGE = 30, 100


@dataclass(frozen=True)
class Request:
    """A logged request; the Authorization header's secret is replaced by ``***``."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    status: int
    operation: str | None
    at: float = 0.0  # time.monotonic() when it arrived
    answered: float = 0.0  # and when its answer was ready


@dataclass(frozen=True)
class Violation:
    """A request a correct client never sends, or one the fake's GitHub rules rejected."""

    method: str
    path: str
    operation: str | None
    kind: str
    message: str


@dataclass
class Failure:
    """An injected answer for the next ``times`` requests matching METHOD and PATTERN
    (``times=None``: every one)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    times: int | None
    headers: dict[str, str]
    body: Any
    hits: int = 0


@dataclass(frozen=True)
class _Incoming:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    op: Operation | None
    params: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Log:
    """What tests assert on."""

    requests: list[Request] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    rejections: list[Violation] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    shape_problems: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)


class Dispatcher:
    """Turns HTTP requests into answers; serialized by one lock."""

    def __init__(
        self, state: State, spec: Spec, *, read_only: bool, tokens: set[str] | None
    ) -> None:
        self.state, self.spec = state, spec
        self.read_only = read_only
        self.valid_tokens = tokens
        self.api = ""  # set once the server has a port
        self.prefix = ""
        self.log = Log()
        self.failures: list[Failure] = []
        self.rate_limit, self.remaining = 5000, 5000
        self.reset = int(time.time()) + 3600
        self.lock = threading.RLock()
        self.latency = 0.0  # seconds every answer takes, as GitHub's take 100-300 ms
        self._in_flight = 0
        self._flight_lock = threading.Lock()

    def handle(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> Answer:
        at = time.monotonic()
        with self._flight_lock:
            self._in_flight += 1
            concurrent = self._in_flight > 1
        try:
            if self.latency:
                time.sleep(self.latency)
            return self._handle(method, target, headers, raw, at=at, concurrent=concurrent)
        finally:
            with self._flight_lock:
                self._in_flight -= 1

    def _handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        raw: bytes,
        *,
        at: float,
        concurrent: bool,
    ) -> Answer:
        with self.lock:
            url = urllib.parse.urlsplit(target)
            path = url.path
            if self.prefix and path.startswith(self.prefix):
                path = path.removeprefix(self.prefix)
            found = self.spec.match(method, path)
            op, params = found if found else (None, {})
            query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
            incoming = _Incoming(method, path, query, dict(headers), None, op, params)
            try:
                incoming = dataclasses.replace(incoming, body=json.loads(raw) if raw else None)
            except ValueError:
                answer = self._error(
                    incoming, GitHubError(400, "Problems parsing JSON", violation=True)
                )
            else:
                answer = self._safely(incoming)
            if concurrent:  # GitHub: "make requests serially instead of concurrently"
                self.log.violations.append(
                    Violation(
                        method,
                        path,
                        op.id if op else None,
                        "concurrent",
                        "sent while another request was waiting for its answer",
                    )
                )
            shown = {k: _redact(k, v) for k, v in headers.items()}
            log = Request(
                method,
                path,
                query,
                incoming.body,
                shown,
                answer.status,
                op.id if op else None,
                at,
                time.monotonic(),
            )
            self.log.requests.append(log)
            return answer

    def _safely(self, incoming: _Incoming) -> Answer:
        try:
            return self._answer(incoming)
        except Exception:
            # A bug in the fake: answered 500 and raised again when the server closes.
            self.log.internal_errors.append(traceback.format_exc())
            return self._json(500, {"message": f"fake GitHub failed:\n{traceback.format_exc()}"})

    def _answer(self, incoming: _Incoming) -> Answer:
        refused = self._authenticate(incoming.headers.get("Authorization"))
        if refused is None:
            injected = self._injected(incoming.method, incoming.path)
            if injected is not None:
                return injected
            if incoming.path != "/rate_limit":
                self.remaining = max(0, self.remaining - 1)
            refused = self._refuse(incoming)
        if refused is not None:
            return self._error(incoming, refused)
        assert incoming.op is not None
        accept = incoming.headers.get("Accept", "")
        ctx = Ctx(self.state, self.api, incoming.params, incoming.query, incoming.body, accept)
        try:
            reply = self._reply(incoming.op, ctx)
        except GitHubError as error:
            return self._error(incoming, error)
        return self._render(incoming.op, incoming, reply)

    def _refuse(self, incoming: _Incoming) -> GitHubError | None:
        """Why GitHub would refuse the request before looking at the data, if it would."""
        if incoming.op is None:
            return GitHubError(404, "Not Found", violation=True)
        if self.read_only and incoming.method in _WRITES:
            return GitHubError(403, "Resource not accessible by integration")
        invalid = self._check_body(incoming, incoming.op)
        if invalid:
            return GitHubError(422, "Invalid request.\n\n" + "\n".join(invalid))
        return None

    def _check_body(self, incoming: _Incoming, op: Operation) -> list[str]:
        """Record every schema problem; return those GitHub refuses the request for."""
        problems = self.spec.check_request(op, incoming.body)
        for problem in problems:
            self._record(self.log.violations, incoming, problem.kind, problem.message)
        return [p.message for p in problems if p.kind == "schema"]

    def _reply(self, op: Operation, ctx: Ctx) -> Reply:
        if op.id == "rate-limit/get":
            return Reply(body=shapes.rate_limit(self.rate_limit, self.remaining, self.reset))
        return routes.HANDLERS[op.id](ctx)

    def _authenticate(self, header: str | None) -> GitHubError | None:
        scheme, _, token = (header or "").partition(" ")
        if not header:
            return GitHubError(401, "Requires authentication", violation=True)
        if scheme.lower() not in ("token", "bearer") or not token:
            return GitHubError(401, "Bad credentials", violation=True)
        if token not in self.log.tokens:
            self.log.tokens.append(token)
        if self.valid_tokens is not None and token not in self.valid_tokens:
            return GitHubError(401, "Bad credentials")
        return None

    def _injected(self, method: str, path: str) -> Answer | None:
        for failure in self.failures:
            if (
                (failure.times is None or failure.hits < failure.times)
                and failure.method == method
                and failure.pattern.search(path)
            ):
                failure.hits += 1
                body = failure.body
                if body is None:
                    body = error_body(failure.status, HTTPStatus(failure.status).phrase, _DOCS)
                return self._json(failure.status, body, failure.headers)
        return None

    def _render(self, op: Operation, incoming: _Incoming, reply: Reply) -> Answer:
        headers = dict(reply.headers)
        if reply.location:
            headers["Location"] = reply.location
        if reply.text is not None:
            return Answer(reply.status, self._headers(headers), reply.text.encode())
        body = reply.body
        if reply.items is not None:
            page_items, links = self._page(incoming.path, incoming.query, reply.items)
            if links:
                headers["Link"] = links
            body = (
                page_items
                if reply.wrap is None
                else {"total_count": len(reply.items), reply.wrap: page_items}
            )
        if reply.status == 204:
            return Answer(204, self._headers(headers, json_body=False), b"")
        for problem in self.spec.check_response(op, reply.status, body):
            self.log.shape_problems.append(f"{op.id} {reply.status} {problem}")
        return self._json(reply.status, body, headers)

    def _page(self, path: str, query: dict[str, str], items: list[Any]) -> tuple[list[Any], str]:
        per_page = min(_positive(query.get("per_page"), _PER_PAGE), _MAX_PER_PAGE)
        page = _positive(query.get("page"), 1)
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int, rel: str) -> str:
            args = urllib.parse.urlencode(query | {"per_page": str(per_page), "page": str(number)})
            return f'<{self.api}{path}?{args}>; rel="{rel}"'

        rels = []
        if page > 1:
            rels.append(link(min(page - 1, last), "prev"))
        if page < last:
            rels += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            rels.append(link(1, "first"))
        return chunk, ", ".join(rels)

    def _error(self, incoming: _Incoming, error: GitHubError) -> Answer:
        doc = incoming.op.documentation_url if incoming.op else _DOCS
        kind = "unknown-operation" if incoming.op is None and error.status == 404 else "rejected"
        if error.violation:
            self._record(self.log.violations, incoming, kind, error.message)
        self._record(self.log.rejections, incoming, kind, error.message)
        return self._json(error.status, error_body(error.status, error.message, doc, error.errors))

    def _record(self, into: list[Violation], incoming: _Incoming, kind: str, message: str) -> None:
        op_id = incoming.op.id if incoming.op else None
        into.append(Violation(incoming.method, incoming.path, op_id, kind, message))

    def _json(self, status: int, body: Any, extra: Mapping[str, str] | None = None) -> Answer:
        return Answer(status, self._headers(dict(extra or {})), json.dumps(body).encode())

    def _headers(self, extra: dict[str, str], *, json_body: bool = True) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Used": str(self.rate_limit - self.remaining),
            "X-RateLimit-Resource": "core",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": uuid.uuid4().hex[:24].upper(),
        }
        if json_body:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return headers | extra


def _positive(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and int(text) > 0 else default


def _redact(name: str, value: str) -> str:
    if name.lower() != "authorization":
        return value
    scheme, _, _ = value.partition(" ")
    return f"{scheme} ***"
