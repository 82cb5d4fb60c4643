"""Safe by default: the server binds the loopback address; any other address
needs a token (or an explicit --no-auth), and with a token every route but
/healthz wants it, as `Authorization: Bearer T`, or once as `?token=T` on the
page, which then keeps it in a same-site cookie (a browser's <img> and
EventSource cannot send a header).

Without a token the loopback address alone keeps other machines out, but not
other web pages in this machine's browser: LoopbackGuard refuses requests
addressed to a name that is not this server's (DNS rebinding) and POST/DELETE
sent from another site's page. A --no-auth server on another address is
reached by this machine's own names too (pi, pi.local) and by any
--allow-host name."""
from __future__ import annotations

import hmac
import ipaddress
import json
import re
import socket
from urllib.parse import parse_qs

from ..errors import UserError

COOKIE = "edgeinfer_token"
OPEN_PATHS = ("/healthz",)
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~+/=-]+")   # RFC 6750's token68: header- and cookie-safe


def is_loopback(host):
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False   # a host name: it may resolve to anything


def check_bind(host, token, no_auth):
    """A UserError when serving on `host` would open the models to the network
    without a token."""
    if token is not None and not token.strip():
        raise UserError("--token is empty: give a long random token (e.g. `openssl rand -hex "
                        "16`)")
    if token is not None and not TOKEN_CHARS.fullmatch(token):
        raise UserError("--token may hold letters, digits and . _ ~ + / = - only (it travels in "
                        "a header and a cookie): e.g. `openssl rand -hex 16`")
    if token and no_auth:
        raise UserError("--token and --no-auth contradict each other: give one")
    if not is_loopback(host) and not token and not no_auth:
        raise UserError(f"--host {host} serves beyond this machine: give --token T (clients "
                        "then send `Authorization: Bearer T`), or --no-auth to serve anyone "
                        "who can reach it")


def own_names(host, allowed=()):
    """The names, besides loopback ones and the address a request came in on,
    that a server listening on `host` answers to without a token: none on a
    loopback address (a name would let another site's page in); otherwise this
    machine's host name and its mDNS (.local) name, a --host given as a name,
    and the `allowed` ones. Not the DNS full name: finding it can wait seconds
    on a resolver a device cannot reach (--allow-host names it)."""
    names = {name.strip().lower().rstrip(".") for name in allowed if name.strip()}
    if is_loopback(host):
        return names
    machine = socket.gethostname().lower()
    short = machine.split(".")[0]
    names |= {machine, short, short + ".local"}
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        names.add(host.lower())     # --host pi.local: the name it was given
    return {name for name in names if name and name != "localhost"}


def _host_name(host):
    """The name in a Host header, without its port ('[::1]:8080' -> '[::1]')."""
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _refuse(status, message, extra=()):
    body = json.dumps({"error": message}).encode()

    async def send_refusal(send):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})
    return send_refusal


class LoopbackGuard:
    """ASGI middleware for a server without a token: 403 (one-line JSON) for a
    request whose Host is not a loopback name, the address it came in on nor one
    of `names` (own_names: a page on another site whose name was rebound to this
    server's address), and for a POST or DELETE whose Origin is neither this
    server's nor a --cors origin (a page on another site posting a form or a
    fetch, which needs no preflight)."""

    def __init__(self, app, cors=(), names=()):
        self.app, self.cors, self.names = app, set(cors), set(names)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1").strip().lower()
        name = _host_name(host)
        local = (scope.get("server") or ("",))[0] or ""
        if not (is_loopback(name) or name.strip("[]") == local.lower() or
                name.rstrip(".") in self.names):
            return await _refuse(403, f"this server answers requests to {self._answers_to()} "
                                      f"only, not to {host or 'no Host'}: open it by one of "
                                      "those, let the name in with --allow-host NAME, or serve "
                                      "with --token T")(send)
        origin = headers.get(b"origin")
        if scope["method"] in ("POST", "DELETE") and origin is not None:
            origin = origin.decode("latin-1").strip()
            if origin.lower() != f"{scope.get('scheme', 'http')}://{host}" and \
                    origin not in self.cors:
                return await _refuse(403, f"a {scope['method']} from the page of {origin} is "
                                          "refused: allow that origin with --cors "
                                          f"{origin}")(send)
        return await self.app(scope, receive, send)

    def _answers_to(self):
        names = sorted(self.names)
        return "localhost, its own address" + (f" and {', '.join(names)}" if names else "")


def _query(scope):
    # '+' stays a '+' (parse_qs alone reads it as a space): tokens may hold one
    return parse_qs(scope.get("query_string", b"").decode("latin-1").replace("+", "%2B"))


def _cookie(headers):
    for line in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = line.strip().partition("=")
        if name == COOKIE:
            return value
    return None


class TokenAuth:
    """ASGI middleware: 401 (one-line JSON) for a request without the token."""

    def __init__(self, app, token):
        self.app = app
        self.token = token.encode()

    def _matches(self, given):
        # constant time: how long a wrong guess takes says nothing about the token
        return given is not None and hmac.compare_digest(given.encode(), self.token)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        scheme, _, bearer = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        query = _query(scope).get("token", [None])
        if scheme.lower() == "bearer" and self._matches(bearer.strip()):
            return await self.app(scope, receive, send)
        if self._matches(_cookie(headers)):
            return await self.app(scope, receive, send)
        if self._matches(query[0]):
            return await self.app(scope, receive, self._setting_cookie(send, query[0]))
        await _refuse(401, "this server wants its token: send `Authorization: Bearer T`, or "
                           "open the page once as /?token=T",
                      [(b"www-authenticate", b"Bearer")])(send)

    @staticmethod
    def _setting_cookie(send, token):
        cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message["headers"]) +
                           [(b"set-cookie", cookie)]}
            await send(message)
        return send_with_cookie
