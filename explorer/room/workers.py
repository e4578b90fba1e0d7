"""Supervising the room's processes: N Streamlit workers and the proxy in front of them (explorer.room.proxy).

The launcher process is the supervisor. It starts every child in a session of its own (so a Ctrl+C in the terminal
reaches the supervisor alone, which then stops the children in order), and on Linux asks the kernel to send each child
SIGTERM should the supervisor itself die (prctl PR_SET_PDEATHSIG): no worker outlives the room. A child that exits
while the room runs is started again on the same port: at once if it had run a minute, else after a pause of 1 s
doubling up to 30 s while it keeps dying within a minute of its start. Its students' websockets break meanwhile;
Streamlit's frontend reconnects through the proxy, which sends them to a healthy worker, and reruns their page there
(no exception box: the page comes back within a few seconds, its view restored from the link).

The workers' output is relayed to the terminal, each line prefixed with the worker's name; the banner in which each
worker announces its internal loopback URL is dropped (students use the room's address). Everything runs in the
supervisor's main thread (a selector over the children's pipes), so children are forked from a process without other
threads.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PAUSE_MAX = 30.0  # s: the longest wait before restarting a child that keeps dying
STABLE_AFTER = 60.0  # s: a child that ran this long before exiting is restarted at once (else after a pause)
STOP_TIMEOUT = 10.0  # s: after SIGTERM, a child still running gets SIGKILL
BANNER = ("You can now view your Streamlit app", "URL: http", "Local URL:", "Network URL:", "External URL:")
PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    """One supervised process: its command, environment, and where its output goes (relayed with a prefix, or a
    log file)."""
    name: str
    command: list[str]
    env: dict
    health_url: str | None = None  # answered "ok" once it serves
    log_file: Path | None = None  # output to this file instead of the terminal
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    pause: float = 0.0  # before the next restart
    restart_at: float | None = None  # when a dead child is due to be started again
    healthy: bool = False
    buffer: bytes = field(default=b"", repr=False)


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies, whatever kills it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Start the children, keep them running until `stop()`; `poll()` does one round of relaying and restarting."""

    def __init__(self, children: list[Child], cwd: Path, out=None):
        self.children, self.cwd, self.out = children, cwd, out or sys.stdout
        self.selector = selectors.DefaultSelector()
        self.stopping = False
        self.ready_announced = False

    # ---- starting and stopping --------------------------------------------------------------------------------------

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        if child.log_file is not None:
            output = open(child.log_file, "ab")  # noqa: SIM115 -- the child holds it; closed below once handed over
        else:
            output = subprocess.PIPE
        try:
            child.proc = subprocess.Popen(
                child.command, cwd=self.cwd, env=child.env, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        finally:
            if child.log_file is not None:
                output.close()
        child.started, child.restart_at, child.healthy, child.buffer = time.monotonic(), None, False, b""
        if child.proc.stdout is not None:
            os.set_blocking(child.proc.stdout.fileno(), False)
            self.selector.register(child.proc.stdout, selectors.EVENT_READ, child)

    def stop(self) -> None:
        """SIGTERM to every child, then SIGKILL to those still running after STOP_TIMEOUT; waits for all."""
        self.stopping = True
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in running:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for child in self.children:
            self._drain(child)
            if child.proc is not None and child.proc.stdout is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self.selector.unregister(child.proc.stdout)
                child.proc.stdout.close()
        self.selector.close()

    # ---- one round ---------------------------------------------------------------------------------------------------

    def poll(self, timeout: float = 0.5) -> None:
        """Relay output for up to `timeout` seconds, then restart children that exited and note which are healthy."""
        if self.selector.get_map():
            for key, _ in self.selector.select(timeout):
                self._read(key.data)
        else:
            time.sleep(timeout)
        if self.stopping:
            return
        now = time.monotonic()
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None and child.restart_at is None:
                self._exited(child, now)
            if child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
            elif child.proc is not None and child.proc.poll() is None and not child.healthy and child.health_url:
                child.healthy = _answers(child.health_url)
        if not self.ready_announced and all(c.healthy or not c.health_url for c in self.children):
            self.ready_announced = True
            self._say(f"  The room is open: {sum(1 for c in self.children if c.health_url)} worker(s) serving.")

    def _exited(self, child: Child, now: float) -> None:
        self._drain(child)
        if child.proc.stdout is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(child.proc.stdout)
            child.proc.stdout.close()
        lived = now - child.started
        child.pause = 0.0 if lived >= STABLE_AFTER else min(PAUSE_MAX, max(1.0, 2 * child.pause))
        child.restart_at, child.healthy = now + child.pause, False
        how = _how_it_ended(child.proc.returncode)
        tail = ""
        if child.log_file is not None and child.log_file.exists():
            tail = "\n".join(child.log_file.read_text(errors="replace").splitlines()[-5:])
        self._say(f"  [{child.name}] {how} after {lived:.0f} s; starting it again"
                  + (f" in {child.pause:.0f} s" if child.pause else "")
                  + (" (its students reconnect to another worker)" if child.health_url else "")
                  + (f"\n{tail}" if tail else ""))

    def _read(self, child: Child) -> None:
        try:
            data = child.proc.stdout.read()
        except (OSError, ValueError):
            return
        if not data:
            return
        child.buffer += data
        *lines, child.buffer = child.buffer.split(b"\n")
        for line in lines:
            self._relay(child, line.decode(errors="replace"))

    def _drain(self, child: Child) -> None:
        if child.proc is None or child.proc.stdout is None or child.proc.stdout.closed:
            return
        with contextlib.suppress(OSError, ValueError):
            child.buffer += child.proc.stdout.read() or b""
        for line in child.buffer.split(b"\n"):
            self._relay(child, line.decode(errors="replace"))
        child.buffer = b""

    def _relay(self, child: Child, line: str) -> None:
        if line.strip() and not any(b in line for b in BANNER):
            self._say(f"[{child.name}] {line.rstrip()}")

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def all_healthy(self) -> bool:
        return all(c.healthy for c in self.children if c.health_url)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as r:
            return r.read() == b"ok"
    except OSError:
        return False


def _how_it_ended(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"stopped by {signal.Signals(-code).name}"
    return f"exited with code {code}"
