"""One training at a time per checkpoint folder, across processes: an exclusive flock on <folder>/.training.lock.

The app's training job and the CLI take it around train-then-save, so two of them never write into one folder
at once. The kernel drops the lock when its holder exits, however it exits: a killed process leaves no stale lock.
POSIX only (Linux, macOS): fcntl.flock.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".training.lock"


class FolderBusyError(RuntimeError):
    """Another training (in this or another process) holds the folder's lock; `holder_pid` is its pid if known."""

    def __init__(self, directory: Path, holder_pid: int | None):
        by = f" (process {holder_pid})" if holder_pid else ""
        super().__init__(f"another training is writing into {directory}{by}; wait for it to finish "
                         "or choose another folder")
        self.directory, self.holder_pid = directory, holder_pid


@contextmanager
def training_lock(directory: str | Path) -> Iterator[Path]:
    """Hold the folder's training lock for the `with` block (creating the folder if needed); yields the lock
    file's path. Raises FolderBusyError at once, without waiting, if anyone else holds it -- including another
    thread of this process, since each call opens the lock file anew."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusyError(directory, _holder_pid(fd)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # the file stays (deleting a flock'd file races with the next opener); the pid goes
    finally:
        os.close(fd)  # releases the lock


def _holder_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None
