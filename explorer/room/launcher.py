"""`vae-explorer`: start the app (single user, on this machine only); `vae-explorer room`: share it with a room, the
way Jupyter shares a notebook server.

Installed by `pip install -e .` (pyproject.toml). Both run `streamlit run app.py` from this checkout; any further
arguments are passed to Streamlit (e.g. --server.port 8600). Room mode makes a random presenter token, serves the app
on every network interface of this machine, and prints two links: the presenter's (with the token: open it on the
lecturer's laptop, it is not shown on screen afterwards) and the audience's (project it; the presenter's sidebar also
shows it with a QR code). Sessions without the token explore every page but cannot train, cancel or delete models
(explorer.room.roles)."""
from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import socket
import sys
from pathlib import Path

from explorer.room.roles import AUDIENCE_URL_ENV, MIN_TOKEN_LENGTH, QUERY, TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]


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


def plan(argv: list[str], environ: dict | None = None) -> tuple[list[str], dict, list[str]]:
    """(the streamlit command, its environment, the lines to print) for `vae-explorer room ARGS`."""
    p = argparse.ArgumentParser(prog="vae-explorer room", description=__doc__)
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default=None, help="the address students reach this machine at (default: looked up)")
    p.add_argument("--token", default=None, help="the presenter token (default: a new random one)")
    args, extra = p.parse_known_args(argv)
    if args.token is not None and len(args.token) < MIN_TOKEN_LENGTH:
        p.error(f"--token must be at least {MIN_TOKEN_LENGTH} characters long (it is the only key to the presenter's "
                f"controls); leave it out for a random one")
    token = args.token or secrets.token_urlsafe(16)
    host = args.host or lan_address()
    audience = f"http://{host}:{args.port}/"
    env = {**(os.environ if environ is None else environ), TOKEN_ENV: token, AUDIENCE_URL_ENV: audience}
    # browser.serverAddress set: Streamlit prints this one URL instead of looking the machine's public address up
    # on the internet (what it does when it serves every interface).
    command = streamlit_command("0.0.0.0", ["--server.port", str(args.port), "--browser.serverAddress", host, *extra])
    lines = ["", "  VAE Latent Explorer -- room mode", "",
             f"  Presenter (you; keep it to yourself):  http://localhost:{args.port}/?{QUERY}={token}",
             f"     or from another device:             {audience}?{QUERY}={token}",
             f"  Audience (project this, or the QR code in your sidebar):  {audience}", ""]
    return command, env, lines


def room_main(argv: list[str] | None = None) -> int:
    command, env, lines = plan(sys.argv[1:] if argv is None else argv)
    print("\n".join(lines), flush=True)
    os.chdir(ROOT)
    os.execve(command[0], command, env)  # the server takes this process over (Ctrl+C stops it)
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
