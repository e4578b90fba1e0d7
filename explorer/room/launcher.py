"""`vae-explorer`: start the app (single user, on this machine only); `vae-explorer room`: share it with a room, the
way Jupyter shares a notebook server.

Installed by `pip install -e .` (pyproject.toml). Both run `streamlit run app.py` from this checkout; any further
arguments are passed to Streamlit (e.g. --server.browser.gatherUsageStats false). Room mode makes a random presenter
token and prints two links: the presenter's (with the token: open it on the lecturer's laptop, it is not shown on
screen afterwards) and the audience's (project it; the presenter's sidebar also shows it with a QR code). Sessions
without the token explore every page but cannot train, cancel or delete models (explorer.room.roles).

A room uses every core: `--workers N` (default: one per core) Streamlit servers on 127.0.0.1, each its own Python
process, behind Caddy on the room's port (explorer.room.proxy), which keeps each browser on one worker by a cookie;
this process supervises them (explorer.room.workers) until Ctrl+C. What the workers share they share through the
environment (the presenter token, the audience link, one cookie secret: a cookie Streamlit signed on one worker is
valid on the others) and the checkpoint folder (trained models; its lock file lets one training run at a time). A
worker that dies is started again; its browsers reconnect through Caddy to another worker and rerun their page there
from its link (the view is in the URL; the rest of the session, e.g. the presenter role, is asked for again). With
one worker there is nothing to balance: Streamlit serves the room's port itself and takes this process over, as it
always has. With two or more and --presenter-worker, the presenter gets one more worker of their own: a worker is one
Python interpreter, so a presenter sharing one with half the room can wait behind students' page runs at a click;
Caddy routes the presenter's link and browser there (explorer.room.proxy). It is off by default: on 2 cores it
measured no clear gain for ~0.9 GB more memory (docs/room.md)."""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import secrets
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from explorer.room.proxy import HEALTH_URI, PLAIN, PresenterRoute, caddy_command, caddyfile
from explorer.room.roles import MIN_TOKEN_LENGTH, QUERY
from explorer.room.workers import Child, Supervisor
from vae_core.settings import AUDIENCE_URL_ENV, TOKEN_ENV
from vae_core.settings import PROJECT_ROOT as ROOT


def streamlit_command(address: str, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", address, *extra]


def lan_address() -> str:
    """This machine's address for other devices on the network, from its own name (no packet is sent anywhere);
    the host name itself when it resolves to nothing but loopback."""
    host = socket.gethostname()
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET)
    except OSError:
        return host
    for info in infos:
        address = info[4][0]
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return host


COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"  # Streamlit reads server.cookieSecret from here (not argv)
EVERY_INTERFACE = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class RoomPlan:
    """What `vae-explorer room ARGS` runs: one Streamlit command per worker (on `worker_ports`, the same order; the
    presenter's worker last when there is one), their shared environment, the lines to print; with more than one
    worker, Caddy on bind:port in front of them."""
    commands: list[list[str]]
    worker_ports: list[int]
    env: dict
    lines: list[str]
    port: int
    bind: str
    proxy_secret: str  # keys the affinity cookie's HMAC
    presenter_port: int | None = None  # the presenter's own worker
    route_id: str = ""  # the presenter's route cookie value (a secret of its own, not the token)

    @property
    def proxied(self) -> bool:
        return len(self.commands) > 1

    @property
    def audience_ports(self) -> list[int]:
        return [p for p in self.worker_ports if p != self.presenter_port]

    def caddyfile(self) -> str:
        presenter = None
        if self.presenter_port is not None:
            presenter = PresenterRoute(f"127.0.0.1:{self.presenter_port}", self.env[TOKEN_ENV], self.route_id)
        return caddyfile(self.port, self.bind, [f"127.0.0.1:{p}" for p in self.audience_ports], self.proxy_secret,
                         presenter)

    def worker_names(self) -> list[str]:
        """The supervisor's name for each worker, in `worker_ports`' order."""
        return [("presenter's worker" if port == self.presenter_port else f"worker {i + 1}")
                for i, port in enumerate(self.worker_ports)]


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (held open together while picked, so they differ)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vae-explorer room", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8501, help="the room's port (default 8501)")
    p.add_argument("--host", default=None,
                   help="the address students reach this machine at, printed in their link (default: looked up)")
    p.add_argument("--bind", default="0.0.0.0",
                   help="the address to listen on (default 0.0.0.0: every interface; 127.0.0.1: this machine only)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="Streamlit processes serving the room (default: one per core, here %(default)s)")
    p.add_argument("--token", default=None,
                   help=f"the presenter token, at least {MIN_TOKEN_LENGTH} characters: letters, digits, - _ . ~ "
                        "(default: a new random one)")
    p.add_argument("--presenter-worker", action="store_true",
                   help="with two or more workers, one more worker for the presenter alone (one process and "
                        "~0.9 GB more; docs/room.md)")
    return p


def plan(argv: list[str], environ: dict | None = None) -> RoomPlan:
    """What `vae-explorer room ARGS` runs (see RoomPlan); argparse's usage error (SystemExit) for a bad argument."""
    p = parser()
    args, extra = p.parse_known_args(argv)
    if args.token is not None and len(args.token) < MIN_TOKEN_LENGTH:
        p.error(f"--token must be at least {MIN_TOKEN_LENGTH} characters long (it is the only key to the presenter's "
                f"controls); leave it out for a random one")
    if args.token is not None and not PLAIN.fullmatch(args.token):
        p.error("--token: letters, digits and - _ . ~ only (it goes into the presenter's link as it is)")
    if not 1 <= args.workers <= 64:
        p.error(f"--workers: 1 to 64 (got {args.workers})")
    environ = os.environ if environ is None else environ
    token = args.token or secrets.token_urlsafe(16)
    host = args.host or (lan_address() if args.bind in EVERY_INTERFACE else args.bind)
    audience = f"http://{host}:{args.port}/"
    env = {**environ, TOKEN_ENV: token, AUDIENCE_URL_ENV: audience,
           COOKIE_SECRET_ENV: environ.get(COOKIE_SECRET_ENV) or secrets.token_urlsafe(32)}
    # browser.serverAddress set: Streamlit prints this one URL instead of looking the machine's public address up
    # on the internet (what it does when it serves every interface).
    public = ["--browser.serverAddress", host, "--browser.serverPort", str(args.port)]
    presenter_port = None
    if args.workers == 1:
        ports = [args.port]
        commands = [streamlit_command(args.bind, ["--server.port", str(args.port), *public, *extra])]
    else:
        ports = free_ports(args.workers + args.presenter_worker)
        presenter_port = ports[-1] if args.presenter_worker else None
        commands = [streamlit_command("127.0.0.1", ["--server.port", str(port), *public, *extra])
                    for port in ports]
    local = "localhost" if args.bind in (*EVERY_INTERFACE, "127.0.0.1") else args.bind
    serving = ("one Streamlit process" if args.workers == 1 else
               f"{args.workers} Streamlit workers behind Caddy, one browser per worker by cookie"
               + (", and one for the presenter" if presenter_port else ""))
    lines = ["", f"  VAE Latent Explorer -- room mode ({serving}, listening on {args.bind}:{args.port})", "",
             f"  Presenter (you; keep it to yourself):  http://{local}:{args.port}/?{QUERY}={token}",
             f"     or from another device:             {audience}?{QUERY}={token}",
             f"  Audience (project this, or the QR code in your sidebar):  {audience}", ""]
    return RoomPlan(commands, ports, env, lines, args.port, args.bind, secrets.token_urlsafe(16), presenter_port,
                    secrets.token_urlsafe(16))


def run_room(room: RoomPlan) -> int:
    """Supervise the workers and Caddy until SIGINT (Ctrl+C), SIGTERM or SIGHUP, then stop them all."""
    stop = []

    def request_stop(signum, _frame) -> None:
        stop.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)
    with tempfile.TemporaryDirectory(prefix="vae-room-") as run:
        run = Path(run)
        config = run / "Caddyfile"
        # the Caddyfile holds the presenter's token and route id when the presenter has a worker (Caddy matches them):
        # readable by this user only, in a folder only this user can enter, removed when the room closes
        config.touch(mode=0o600)
        config.write_text(room.caddyfile())
        # Caddy gets no other secret, and keeps its data (it stores nothing without TLS) in the run folder, not $HOME
        proxy_env = {k: v for k, v in os.environ.items() if k not in (TOKEN_ENV, COOKIE_SECRET_ENV)}
        proxy_env.update(XDG_DATA_HOME=str(run / "data"), XDG_CONFIG_HOME=str(run / "config"))
        children = [Child(name, command, room.env, health_url=f"http://127.0.0.1:{port}{HEALTH_URI}")
                    for name, command, port in zip(room.worker_names(), room.commands, room.worker_ports, strict=True)]
        children.append(Child("proxy", caddy_command(config), proxy_env, log_file=run / "caddy.log"))
        supervisor = Supervisor(children, ROOT)
        try:
            supervisor.start()
            while not stop:
                supervisor.poll(0.5)
        finally:
            supervisor.stop()
    print("  The room is closed.", flush=True)
    return 0


def port_taken(bind: str, port: int) -> str | None:
    """Why the room cannot listen on bind:port, or None. Checked before anything starts: Caddy shares a port another
    Caddy holds (SO_REUSEPORT), so a second room on the same port would silently split the hall between the two."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((bind or "0.0.0.0", port))
        except OSError as e:
            return f"port {port} on {bind or '0.0.0.0'} is not free ({e.strerror}): is another room or server on it?"
    return None


def room_main(argv: list[str] | None = None) -> int:
    room = plan(sys.argv[1:] if argv is None else argv)
    if problem := port_taken(room.bind, room.port):
        print(f"  Cannot open the room: {problem} Choose another with --port.", file=sys.stderr, flush=True)
        return 2
    print("\n".join(room.lines), flush=True)
    if room.proxied:
        return run_room(room)
    os.chdir(ROOT)
    command = room.commands[0]
    os.execve(command[0], command, room.env)  # the server takes this process over (Ctrl+C stops it)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["room"]:
        return room_main(argv[1:])
    command = streamlit_command("127.0.0.1", argv)
    os.chdir(ROOT)
    os.execv(command[0], command)  # the app takes this process over (Ctrl+C stops it)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
