"""`vae-explorer`: start the app (single user, on this machine only); `vae-explorer room`: share it with a room.

Installed by `pip install -e .` (pyproject.toml). Both run `streamlit run app.py` from this checkout; any further
arguments are passed to Streamlit (e.g. --server.port 8600)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def streamlit_command(address: str, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", address, *extra]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["room"]:
        from .room import main as room_main

        return room_main(argv[1:])
    command = streamlit_command("127.0.0.1", argv)
    os.chdir(ROOT)
    os.execv(command[0], command)  # the app takes this process over (Ctrl+C stops it)
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
