"""Who may use the console: the access token on every request, CSRF on every write, and the
headers that keep pages inert (a payload is data, never markup or script)."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "tidings_console_token"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
HEADERS = (
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
     b" object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


def same(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a secret (False for None)."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def new_secret() -> str:
    """A fresh random secret (the CSRF token of one console run)."""
    return secrets.token_urlsafe(32)


class Guard:
    """ASGI middleware: with a `token`, every request must carry it (`Authorization: Bearer`, the
    cookie set by a first visit with `?token=`), else 401; without one, only a loopback `Host` is
    served (403 otherwise); every response gets the headers above and `Server-Timing: app;dur=MS`
    (the time until the response started)."""

    def __init__(self, app: ASGIApp, token: str | None, loopback: frozenset[str]) -> None:
        self.app = app
        self.token = token
        self.loopback = loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.token is None:
            # Without a token only this machine may come in: refuse another Host (a DNS
            # rebinding page in a local browser names its own host).
            host = headers.get("host", "").rsplit(":", 1)[0].strip("[]")
            if host not in self.loopback:
                await _respond(send, 403, b"403: this console answers only as 127.0.0.1 or localhost"
                               b" (start it with --token to serve other hosts)\n", [])
                return
        else:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            from_query = query.get("token", [None])[0]
            if same(from_query, self.token):
                rest = urlencode([(k, v) for k, vs in query.items() if k != "token" for v in vs])
                location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
                await _respond(send, 303, b"", [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", f"{TOKEN_COOKIE}={self.token}; HttpOnly; SameSite=Strict;"
                                    " Path=/".encode("latin-1")),
                ])
                return
            bearer = headers.get("authorization", "")
            given = bearer[7:] if bearer.lower().startswith("bearer ") else None
            if given is None:
                cookie = SimpleCookie()
                cookie.load(headers.get("cookie", ""))
                given = cookie[TOKEN_COOKIE].value if TOKEN_COOKIE in cookie else None
            if not same(given, self.token):
                await _respond(send, 401, b"401: this console needs its access token: open it with"
                               b" ?token=... or send Authorization: Bearer ...\n",
                               [(b"www-authenticate", b"Bearer")])
                return
            scope.setdefault("state", {})["bearer"] = bool(bearer)

        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []), *HEADERS,
                                      (b"server-timing", f"app;dur={took:.1f}".encode())]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers, *HEADERS]})
    await send({"type": "http.response.body", "body": body})
