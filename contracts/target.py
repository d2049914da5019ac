"""The deployment under test: a base URL or an in-process ASGI app, reached the same way by every suite.

`Target` sends our own probes (auth matrix, ownership, lifecycle, devmode) through `requests` — a real
`requests.Session` for a URL, schemathesis' in-process ASGI session for an app — and builds the schemathesis
schema the generated suites run on, pointed at the same place. Credentials are never read here: callers pass
headers.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

import requests

from contracts.curl import Secrets, to_curl

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiSchema

    from contracts.spec import Spec

__all__ = ("ASGI_BASE_URL", "NO_BODY", "Exchange", "RateLimiter", "Target", "TargetUnreachable")

ASGI_BASE_URL = "http://testserver"
NO_BODY: Any = object()


class TargetUnreachable(OSError):
    """The deployment did not answer (refused connection, DNS, TLS, timeout)."""


class RateLimiter:
    """A blocking token bucket shared by all threads: `RateLimiter.parse("10/s")`."""

    _UNITS: ClassVar[dict[str, float]] = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("rate limit must be positive")
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str | None) -> RateLimiter | None:
        if not text:
            return None
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*/\s*(\d*)\s*([smhd])\s*", text)
        if not m:
            raise ValueError(f"invalid --rate-limit {text!r}: use <requests>/<unit>, e.g. 10/s, 300/m, 1000/h")
        count, multiple, unit = float(m.group(1)), int(m.group(2) or 1), m.group(3)
        return cls(count / (multiple * cls._UNITS[unit]))

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            time.sleep(wait)


@dataclass(slots=True)
class Exchange:
    """One request and its answer (`status` 0 and `error` set when no answer came)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    elapsed: float
    error: str | None = None
    _json: Any = field(default=NO_BODY, repr=False)

    @property
    def path(self) -> str:
        return re.sub(r"^[a-z]+://[^/]+", "", self.url)

    def json(self) -> Any:
        """The parsed JSON body, or `NO_BODY` when it is not JSON."""
        if self._json is NO_BODY and self.body:
            with contextlib.suppress(ValueError):
                self._json = json.loads(self.body)
        return self._json

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def describe(self, limit: int = 300) -> str:
        """`404 {"error": "Task not found"}` — the status and a bounded body, for failure messages."""
        if self.error:
            return f"no answer ({self.error})"
        text = self.body.decode("utf-8", "replace").strip()
        if len(text) > limit:
            text = text[:limit] + "…"
        return f"{self.status} {text}" if text else f"{self.status} (empty body)"

    def curl(self, secrets: Secrets | None = None) -> str:
        return to_curl(self.method, self.url, self.request_headers, self.request_body, secrets)


class Target:
    """Where the API lives: `Target.from_url("http://127.0.0.1:4010")` or `Target.from_app(asgi_app)`."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        app: Any = None,
        timeout: float = 10.0,
        rate_limit: str | None = None,
    ) -> None:
        if (base_url is None) == (app is None):
            raise ValueError("a target is either a base URL or an ASGI app")
        if base_url is not None and not re.match(r"^https?://[^/\s]+", base_url):
            raise ValueError(f"invalid base URL {base_url!r}: expected http(s)://host[:port][/prefix]")
        self.app = app
        self.base_url = (base_url or ASGI_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.rate_limit = rate_limit
        self.limiter = RateLimiter.parse(rate_limit)
        self._local = threading.local()
        self._count = 0
        self._count_lock = threading.Lock()

    @classmethod
    def of(cls, target: Any, *, timeout: float = 10.0, rate_limit: str | None = None) -> Target:
        """A `Target` from a base URL string, an ASGI app, or an existing `Target`."""
        if isinstance(target, Target):
            return target
        if isinstance(target, str):
            return cls(base_url=target, timeout=timeout, rate_limit=rate_limit)
        if callable(target):
            return cls(app=target, timeout=timeout, rate_limit=rate_limit)
        raise TypeError(f"a target is a base URL or an ASGI app, not {type(target).__name__}")

    @property
    def is_asgi(self) -> bool:
        return self.app is not None

    @property
    def requests_sent(self) -> int:
        return self._count

    def count(self, n: int = 1) -> None:
        with self._count_lock:
            self._count += n

    def new_session(self) -> requests.Session:
        """A fresh session that never stores cookies (a probe sends exactly the credentials it means to)."""
        session: requests.Session
        if self.app is not None:
            from schemathesis.python import asgi

            session = asgi.get_client(self.app).__enter__()  # starts the app's lifespan once per process
        else:
            session = requests.Session()
        session.headers["User-Agent"] = "buildd-api-check"
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        return session

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self.new_session()
        return session

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = NO_BODY,
        content: bytes | None = None,
        session: requests.Session | None = None,
    ) -> Exchange:
        """Send one request; network errors come back as an `Exchange` with `status == 0` and `error` set."""
        url = self.base_url + path
        if params:
            url += "?" + urlencode({k: _query_value(v) for k, v in params.items()})
        sent_headers = dict(headers or {})
        body = content
        if json_body is not NO_BODY:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        if self.limiter:
            self.limiter.acquire()
        self.count()
        started = time.perf_counter()
        try:
            response = (session or self._session()).request(
                method, url, headers=sent_headers, data=body, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            return Exchange(
                method, url, sent_headers, body, 0, {}, b"", time.perf_counter() - started, _network_error(exc)
            )
        return Exchange(
            method=method,
            url=url,
            request_headers=sent_headers,
            request_body=body,
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            body=response.content,
            elapsed=time.perf_counter() - started,
        )

    def preflight(self) -> Exchange:
        """One cheap unauthenticated request; `TargetUnreachable` (one line) when nothing answers."""
        exchange = self.send("GET", "/api/workers/active")
        if exchange.status == 0:
            raise TargetUnreachable(f"cannot reach {self.base_url}: {exchange.error}")
        return exchange

    def schemathesis_schema(self, spec: Spec, config: dict[str, Any]) -> OpenApiSchema:
        """The spec as a schemathesis schema aimed at this target; `config` is schemathesis.toml as a dict."""
        import schemathesis
        from schemathesis.config import SchemathesisConfig

        settings = dict(config)
        if self.app is None:
            settings["base-url"] = self.base_url
        if self.rate_limit:
            settings["rate-limit"] = self.rate_limit
        settings.setdefault("request-timeout", self.timeout)
        # a private copy: generated cases may share objects with the document (examples), and the loaded Spec
        # is shared by the whole process
        raw = copy.deepcopy(spec.raw)
        schema = schemathesis.openapi.from_dict(raw, config=SchemathesisConfig.from_dict(settings))
        if self.app is not None:
            schema.app = self.app
        return schema


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _network_error(exc: requests.RequestException) -> str:
    reason = exc.args[0] if exc.args else exc
    text = str(getattr(reason, "reason", reason))
    if isinstance(exc, requests.Timeout):
        return f"timed out: {text}"
    if isinstance(exc, requests.ConnectionError):
        m = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text) or re.search(
            r"(Connection refused|Name or service not known)", text
        )
        return f"connection error: {m.group(1) if m else text.splitlines()[0][:200]}"
    return f"{type(exc).__name__}: {text.splitlines()[0][:200] if text else ''}"
