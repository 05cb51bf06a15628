"""What every response carries, and the CSRF token every form must send back.

CSRF: a random value in an HttpOnly cookie (``cx_csrf``); each form carries an HMAC of it
under the console's secret, checked on every POST (double submit, signed: a script on
another site can neither read the cookie nor make the token). A POST without the token or
with a wrong one is refused with 403 before anything is read or done.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "cx_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "cx_session"
LANG_COOKIE = "cx_lang"

# No inline script anywhere, nothing from another origin; a message's own HTML is shown in
# a sandboxed srcdoc frame, which inherits this policy and adds its own (see case.html).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def cookie_line(name: str, value: str, *, secure: bool, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def cookies_of(scope: Scope) -> dict[str, str]:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed header is no cookie at all
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


def csrf_token(secret: str, cookie: str) -> str:
    return hmac.new(secret.encode(), cookie.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str, cookie: str | None, sent: object) -> bool:
    if not cookie or not isinstance(sent, str):
        return False
    return hmac.compare_digest(csrf_token(secret, cookie), sent)


class Guard:
    """ASGI middleware: the security headers on every response, ``Cache-Control: no-store``
    on pages (they hold personal data), and a CSRF cookie for a browser without one (its
    value in ``request.state.csrf_cookie`` for the forms of this very response)."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool) -> None:
        self.app = app
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = cookies_of(scope).get(CSRF_COOKIE)
        fresh = current is None or not _TOKEN.match(current)
        value = secrets.token_urlsafe(32) if fresh or current is None else current
        scope.setdefault("state", {})["csrf_cookie"] = value
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, header in HEADERS.items():
                    if key not in headers:
                        headers[key] = header
                if not static:
                    headers["cache-control"] = "no-store"
                if fresh:
                    headers.append("set-cookie", cookie_line(CSRF_COOKIE, value,
                                                             secure=self.secure))
            await send(message)

        await self.app(scope, receive, send_with_headers)
