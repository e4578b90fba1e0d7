"""The running training as every worker of a room sees it. A training runs in the worker that serves the presenter;
that worker writes its job's status and latest film frame to the room's data folder (<room data>/live-training/), and
the other workers read them, so a student on any worker watches the map form and sees the new model when it is saved.

No Streamlit here. Written by the training thread (`LiveBoard.publish`, at most every WRITE_EVERY seconds, at once for a
new frame or state), read by page runs (`LiveBoard.read`): one parse per change of the files for the whole process,
shared by its sessions. The status is JSON and the frame an uncompressed .npz of three plain arrays, read with
allow_pickle=False and every shape and size checked: loading runs no code and allocates what a frame needs. Writes are
atomic (a temporary file in the folder, then os.replace). A status that says "running" but has not been rewritten for
STALE_SECONDS was left by a worker that died, and counts as ended."""
from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from explorer.training.status import JobStatus, LiveFrame
from vae_core.settings import presenter_token, room_data_dir

FOLDER = "live-training"
STATUS, FRAME = "status.json", "frame.npz"
WRITE_EVERY = 0.5  # seconds between two status writes of the same frame and state
STALE_SECONDS = 60.0  # an active status older than this was left by a worker that died
MAX_STATUS_BYTES = 256 * 1024  # a status holds at most a few hundred epochs' history
MAX_FRAME_BYTES = 2 * 2**20  # 10,000 filmed digits' float16 means and a compressed grid fit in well under this
MAX_DIGITS, MAX_LATENT = 10_000, 64
STATES = ("running", "saving", "succeeded", "failed", "cancelled")
HISTORY_KEYS = ("epoch", "train_loss", "test_loss", "test_images", "seconds")  # what the loss chart reads

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Seen:
    """What this process last read: the status file's identity and its parsed content."""
    stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the status file
    status: JobStatus | None = None
    frame_stamp: tuple[int, int] | None = None
    frame: LiveFrame | None = None


def board_id(token: str) -> int:
    """A job id for a job another worker runs: stable across processes and far above any worker's own counter (1, 2,
    ...), so a session that watched it can tell it apart from this worker's jobs."""
    return 2**40 + int.from_bytes(hashlib.sha256(token.encode()).digest()[:4], "big")


class LiveBoard:
    """One room's live-training files; `publish` from the worker that trains, `read` from the others."""

    def __init__(self, folder: Path | None = None, clock=time.time) -> None:
        self.folder = Path(folder) if folder is not None else room_data_dir() / FOLDER
        self._clock = clock
        self._lock = threading.Lock()
        self._written: tuple | None = None  # (job token, state, frame index) of the last write
        self._written_at = -math.inf
        self._seen = _Seen()

    # ------------------------------------------------------------------------------------------------ writing

    def publish(self, status: JobStatus, force: bool = False) -> None:
        """Write `status` (and its frame, when new) for the other workers; skipped when only its figures changed and
        the last write is less than WRITE_EVERY seconds old. Never raises: a full disk costs the others the live view,
        not the training."""
        token = self.token(status)
        frame_index = status.film.index if status.film is not None else -1
        what = (token, status.state, frame_index)
        now = self._clock()
        with self._lock:
            if not force and what == self._written and now - self._written_at < WRITE_EVERY:
                return
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                if status.film is not None and (self._written is None or self._written[::2] != what[::2]):
                    self._write(FRAME, _frame_bytes(token, status.film))
                self._write(STATUS, json.dumps(_status_dict(token, status, now)).encode())
            except OSError as e:
                log.warning("live training: could not write the board in %s (%s)", self.folder, e)
                return
            self._written, self._written_at = what, now

    @staticmethod
    def token(status: JobStatus) -> str:
        """This job's name on the board: when it started and its id in its worker (the room trains one at a time)."""
        return f"{status.started:.6f}-{status.job_id}"

    def _write(self, name: str, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # ------------------------------------------------------------------------------------------------ reading

    def read(self) -> JobStatus | None:
        """The job another worker of this room published last (its job_id from `board_id`), or None: no board, one
        this process wrote, a damaged file, or a job that stopped being rewritten while it ran."""
        path = self.folder / STATUS
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            seen = self._seen
            if stamp != seen.stamp:
                seen = _Seen(stamp, _parse_status(path, st.st_size), seen.frame_stamp, seen.frame)
            status = seen.status
            if status is not None and status.film is not None:  # the status carries its frame's index only
                seen = self._with_frame(seen, status)
                status = replace(status, film=seen.frame if _same_job(seen.frame, status) else None)
            self._seen = seen
        if status is None:
            return None
        if status.active and self._clock() - status.updated > STALE_SECONDS:
            return None
        return status

    def _with_frame(self, seen: _Seen, status: JobStatus) -> _Seen:
        path = self.folder / FRAME
        try:
            st = path.stat()
        except OSError:
            return replace(seen, frame_stamp=None, frame=None)
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == seen.frame_stamp:
            return seen
        return replace(seen, frame_stamp=stamp, frame=_parse_frame(path, st.st_size))


def _same_job(frame: _BoardFrame | None, status: JobStatus) -> bool:
    return frame is not None and frame.job == status.owner


def _status_dict(token: str, s: JobStatus, now: float) -> dict:
    history = [{k: float(h[k]) for k in HISTORY_KEYS if k in h} for h in s.history]
    return {"token": token, "pid": os.getpid(), "written": now, "state": s.state, "name": s.name, "epoch": s.epoch,
            "epochs": s.epochs, "fraction": s.fraction, "running_loss": s.running_loss, "history": history,
            "started": s.started, "frame": s.film.index if s.film is not None else -1}


def _parse_status(path: Path, size: int) -> JobStatus | None:
    """The status file as a JobStatus (owner = the job's token), or None for another process's own or a bad file."""
    if size > MAX_STATUS_BYTES:
        log.warning("live training: %s is %d bytes, more than a status holds; ignored", path, size)
        return None
    try:
        d = json.loads(path.read_bytes()[:MAX_STATUS_BYTES])
        if d["pid"] == os.getpid():
            return None  # this worker's own job: its TrainingJob says more
        token, state, name = str(d["token"]), str(d["state"]), str(d["name"])[:64]
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        history = [{str(k): float(v) for k, v in h.items() if k in HISTORY_KEYS} for h in d["history"]]
        return JobStatus(job_id=board_id(token), state=state, name=name, owner=token, epoch=int(d["epoch"]),
                         epochs=int(d["epochs"]), fraction=min(max(float(d["fraction"]), 0.0), 1.0),
                         running_loss=float(d["running_loss"]), history=history, started=float(d["started"]),
                         updated=float(d["written"]),
                         film=_PENDING if int(d["frame"]) >= 0 else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        log.warning("live training: ignored %s (%s)", path, e)
        return None


def _frame_bytes(token: str, frame: LiveFrame) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, means=np.asarray(frame.means, dtype=np.float16), labels=np.asarray(frame.labels, dtype=np.int64),
             grid=np.frombuffer(frame.grid, dtype=np.uint8),
             meta=np.frombuffer(json.dumps({"job": token, "index": frame.index, "step": frame.step,
                                            "caption": frame.caption}).encode(), dtype=np.uint8))
    return buf.getvalue()


def _parse_frame(path: Path, size: int) -> LiveFrame | None:
    """The frame file as a LiveFrame tagged with its job's token, or None for a bad file."""
    if size > MAX_FRAME_BYTES:
        log.warning("live training: %s is %d bytes, more than a frame holds; ignored", path, size)
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            if set(npz.files) != {"means", "labels", "grid", "meta"}:
                raise ValueError(f"members {sorted(npz.files)}")
            means, labels, grid, meta = npz["means"], npz["labels"], npz["grid"], npz["meta"]
        meta = json.loads(meta.astype(np.uint8).tobytes())
        n = len(labels)
        if (means.dtype != np.float16 or means.ndim != 2 or not 0 < n <= MAX_DIGITS or means.shape[0] != n
                or not 0 < means.shape[1] <= MAX_LATENT or labels.dtype != np.int64 or labels.ndim != 1
                or labels.min() < 0 or labels.max() > 9 or grid.dtype != np.uint8 or grid.ndim != 1):
            raise ValueError("arrays of the wrong kind or shape")
        means.flags.writeable = labels.flags.writeable = False
        frame = _BoardFrame(int(meta["index"]), int(meta["step"]), str(meta["caption"])[:80], means, labels,
                            grid.tobytes(), job=str(meta["job"]))
        frame.grid_picture()  # decompresses the one 336 x 336 grid here, once, so a bad one is never drawn
        return frame
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:  # vae_core.film.FilmError is a ValueError
        log.warning("live training: ignored %s (%s)", path, e)
        return None


@dataclass(frozen=True)
class _BoardFrame(LiveFrame):
    """A frame read from the board, with the token of the job that wrote it."""
    job: str = ""


_PENDING = LiveFrame(-1, 0, "", np.zeros((0, 2), np.float16), np.zeros(0, np.int64), b"")  # status with a frame to read


def shown_status(local: JobStatus, board: LiveBoard | None) -> JobStatus:
    """The training a page shows: this worker's own while it runs, else the room's latest (another worker's, running
    or ended after this worker's last one), else this worker's last."""
    if board is None or local.active:
        return local
    remote = board.read()
    if remote is None or not (remote.active or remote.started > local.started):
        return local
    return remote


_BOARDS: dict[Path, LiveBoard] = {}
_BOARDS_LOCK = threading.Lock()


def room_board() -> LiveBoard | None:
    """This process's board of the room's data folder in room mode (its workers share that folder); None for a
    single user. One per folder, so every session of a worker shares one read of the files."""
    if not presenter_token():
        return None
    folder = room_data_dir() / FOLDER
    with _BOARDS_LOCK:
        return _BOARDS.setdefault(folder, LiveBoard(folder))
