"""The presenter's link, ?presenter=<token>, answered before any page loads: in room mode the server redirects it to the
same address without the token and keeps the token in a cookie for this browser, which the session then presents
(explorer.room.roles.claim_from_url). The redirect replaces the link in the browser's history, so the token is never
in the address bar (on the projector) nor one Back away; the cookie is HttpOnly (no script reads it) and SameSite
(no other site sends it).

The cookie is set whatever the token given: whether it is right is decided by the session, where wrong tokens are
limited; setting it only for the right one would answer guesses without that limit."""
from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from explorer.room.roles import COOKIE, QUERY, room_mode

MAX_TOKEN_CHARS = 256  # a longer ?presenter= value is dropped, not kept in a cookie


class PresenterLink:
    """ASGI middleware (for st.App's `middleware=`): GET /...?presenter=<token>... -> 303 to the address without it,
    with the token in a session cookie. Every other request passes through untouched, as does everything outside room
    mode."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or not room_mode():
            return await self.app(scope, receive, send)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        tokens = [value for name, value in query if name == QUERY]
        if not tokens:
            return await self.app(scope, receive, send)
        rest = urlencode([(name, value) for name, value in query if name != QUERY])
        location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
        headers = [(b"location", location.encode("latin-1")), (b"cache-control", b"no-store"),
                   (b"referrer-policy", b"no-referrer"), (b"content-length", b"0")]
        token = tokens[-1]
        if 0 < len(token) <= MAX_TOKEN_CHARS:
            cookie = f"{COOKIE}={quote(token, safe='')}; Path=/; HttpOnly; SameSite=Strict"
            headers.append((b"set-cookie", cookie.encode("latin-1")))
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
