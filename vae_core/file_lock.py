"""One training at a time per checkpoint folder, across processes: an exclusive flock on <folder>/.training.lock.

The app's training job and the CLI take it around train-then-save, so two of them never write into one folder
at once. The kernel drops the lock when its holder exits, however it exits: a killed process leaves no stale lock.
`try_lock` is the same lock on any file, for whatever else must run in one process at a time (the app's shared
computations, explorer/cache/result_store.py). POSIX only (Linux, macOS): fcntl.flock.
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


@contextmanager
def try_lock(path: str | Path) -> Iterator[bool]:
    """The same exclusive flock on any file (created if missing), without waiting: yields True while this `with`
    block holds it, False at once when another process (or another open of it in this process) does.

    Whoever holds the lock may delete the file (a bounded folder removes old lock files that way): a lock taken on a
    file that is no longer at `path` is dropped and taken again on the file now there."""
    path = Path(path)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held = False
            else:
                held = _still_at(path, fd)
                if not held:
                    continue  # deleted (or replaced) by its last holder: lock the file now at `path`
            yield held
            return
        finally:
            os.close(fd)  # releases the lock


def _still_at(path: Path, fd: int) -> bool:
    try:
        on_disk, opened = os.stat(path, follow_symlinks=False), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (on_disk.st_dev, on_disk.st_ino) == (opened.st_dev, opened.st_ino)
