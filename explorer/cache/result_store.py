"""The shared computations' results on disk (explorer.cache.jobs), so that every worker process of a room -- and the
next start of the server -- finds a result computed once on this machine.

Where: <room data>/shared-results/ (VAE_ROOM_DATA_DIR, default ./room-data: the folder a room's workers share, and
where a single-user server keeps its class map too; never inside the checkpoint folders). One result per job key:
`<kind>-<digest>.npz`, the digest of the key made stable across processes: the checkpoint's content fingerprint
instead of its path and mtime, the job's settings, the MNIST folder and RESULTS_VERSION (Python's hash() differs
between processes, so it is never used).

Safe: an uncompressed .npz of plain numeric arrays, read here member by member with every header checked (no object
arrays, sizes within bounds and within the file) and the key it was made for compared, then decoded by the job
kind's Codec, which checks shapes and values. Loading never runs code from the file; a damaged, truncated or foreign
file is ignored (logged), and the result is computed again and written over it. Writes are atomic (a temporary file
in the folder, then os.replace), only for a job that succeeded, and the folder is bounded: beyond MAX_BYTES or
MAX_RESULTS the least recently used results go.

One process at a time: beside each result, `<name>.lock` is flock'ed by the process computing it (the OS releases
it when that process dies, however it dies) and `<name>.progress.json` says how far it is (rewritten at most every
PROGRESS_EVERY seconds), which the other workers show while they wait for the result to land."""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_core.file_lock import try_lock
from vae_core.settings import SHIPPED_DIR, checkpoint_dir, data_dir, room_data_dir

SUBFOLDER = "shared-results"
RESULTS_VERSION = 1  # part of every key: raised when a computation's meaning changes, so older files are not read
MAX_BYTES = 256 * 2**20  # all results together (the default model's test-digit scores are ~0.5 MB)
MAX_RESULTS = 500  # result files at most
MAX_FILE_BYTES = 64 * 2**20  # a larger file is not read
MAX_MEMBERS = 64  # arrays in one result file
PROGRESS_EVERY = 1.0  # seconds between two writes of a progress file
MAX_PROGRESS_BYTES = 4096
STALE_TEMP_SECONDS = 3600.0  # a temporary file this old was left by a process that died while writing
KEY_MEMBER = "__key__"
MISSING = object()  # load(): no usable result on disk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Codec:
    """How one kind of result becomes arrays and back. decode raises ValueError for arrays that are not such a
    result (a foreign or outdated file)."""
    encode: Callable[[Any], dict[str, np.ndarray]]
    decode: Callable[[dict[str, np.ndarray]], Any]


_codecs: dict[str, Codec] = {}


def register(kind: str, codec: Codec) -> None:
    """Keep the results of jobs whose key starts with `kind` on disk, in this codec (jobs of other kinds stay in
    their process)."""
    _codecs[kind] = codec


# ------------------------------------------------------------------------------------------------ codecs

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _vector(name: str, a: np.ndarray, length: int | None = None) -> np.ndarray:
    if a.ndim != 1 or a.dtype.kind != "f" or (length is not None and len(a) != length):
        raise ValueError(f"{name}: expected a float vector{'' if length is None else f' of {length}'}, "
                         f"got {a.dtype} {a.shape}")
    return a


def _encode_scores(result: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.asarray(values) for name, values in result.items()}


def _decode_scores(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not arrays or not all(_NAME.fullmatch(n) and "/" not in n for n in arrays):
        raise ValueError("expected named score vectors")
    length = len(next(iter(arrays.values())))
    return {name: _vector(name, a, length) for name, a in arrays.items()}


def _encode_scores_by_set(result: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {f"{group}/{name}": np.asarray(values) for group, scores in result.items() for name, values in scores.items()}


def _decode_scores_by_set(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    groups: dict[str, dict[str, np.ndarray]] = {}
    for member, a in arrays.items():
        group, _, name = member.partition("/")
        groups.setdefault(group, {})[name] = a
    decoded = {group: _decode_scores(scores) for group, scores in groups.items()}
    if not decoded or len({tuple(scores) for scores in decoded.values()}) != 1:
        raise ValueError("expected the same scores for every set")
    return decoded


def _encode_number(result: float) -> dict[str, np.ndarray]:
    return {"value": np.float64(result)}


def _decode_number(arrays: dict[str, np.ndarray]) -> float:
    value = arrays.get("value")
    if set(arrays) != {"value"} or value.shape != () or value.dtype.kind != "f" or not math.isfinite(value):
        raise ValueError("expected one finite number")
    return float(value)


SCORES = Codec(_encode_scores, _decode_scores)  # {name: float vector}, every vector of one length
SCORES_BY_SET = Codec(_encode_scores_by_set, _decode_scores_by_set)  # {set: {name: float vector}}, same names
NUMBER = Codec(_encode_number, _decode_number)  # one finite float


# ------------------------------------------------------------------------------------------------ stable keys

class _Unstable(Exception):
    """A part of a key that names nothing the same way in another process (or a checkpoint changed since)."""


@functools.lru_cache(maxsize=64)
def _content_digest(path: str, size: int, mtime_ns: int, inode: int) -> str:
    """The blake2b of a file's bytes, once per version of the file (the arguments name the version)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(2**20), b""):
            h.update(chunk)
    return h.hexdigest()


def checkpoint_fingerprint(path: str, mtime: float) -> str | None:
    """The checkpoint's content fingerprint, or None when the file is gone or is no longer the version `mtime` names
    (a model key's mtime: its results may not be stored under the content of another version)."""
    try:
        st = os.stat(path)
        if st.st_mtime != mtime:
            return None
        return _content_digest(os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError:
        return None


def _stable(part):
    """A JSON-able form of a key part that means the same in every process."""
    if part is None or isinstance(part, (str, bool, int, float)):
        return part
    if hasattr(part, "path") and hasattr(part, "mtime"):  # a model key (explorer.model.choice.ModelKey)
        fingerprint = checkpoint_fingerprint(part.path, part.mtime)
        if fingerprint is None:
            raise _Unstable(part)
        return {"checkpoint": fingerprint}
    if isinstance(part, (tuple, list)):
        return [_stable(p) for p in part]
    raise _Unstable(part)


def stable_key(key: Hashable) -> str | None:
    """The job key as text that is the same in every process of this machine, or None if it cannot be (then the job's
    result stays in its process)."""
    try:
        stable = _stable(key)
    except _Unstable:
        return None
    return json.dumps({"version": RESULTS_VERSION, "mnist": str(data_dir().resolve()), "key": stable},
                      sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------ the folder

_warned: set[str] = set()


def folder() -> Path | None:
    """<room data>/shared-results (made if missing), or None -- results stay in their process, logged once -- when
    the room's data folder is inside a checkpoint folder (models and a room's data are kept apart) or cannot be
    made."""
    root = room_data_dir().resolve()
    problem = next((f"it is inside the checkpoint folder {models.name}/" for models in (SHIPPED_DIR, checkpoint_dir())
                    if root.is_relative_to(models.resolve())), None)
    if problem is None:
        try:
            (root / SUBFOLDER).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            problem = f"it cannot be made ({type(e).__name__})"
    if problem is None:
        return root / SUBFOLDER
    if str(root) not in _warned:
        _warned.add(str(root))
        log.warning("shared results are not kept on disk, since the room's data folder %s cannot hold them: %s "
                    "(set VAE_ROOM_DATA_DIR elsewhere)", root.name, problem)
    return None


def _slug(kind: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")[:32] or "job"


def entry(key: Hashable) -> Entry | None:
    """The disk entry of a job key, or None when results of this key are not kept on disk (a kind with no codec, a
    key that is not stable across processes, no usable folder)."""
    kind = key[0] if isinstance(key, tuple) and key and isinstance(key[0], str) else None
    codec = _codecs.get(kind)
    if codec is None:
        return None
    text = stable_key(key)
    where = folder() if text is not None else None
    if where is None:
        return None
    digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return Entry(where, f"{_slug(kind)}-{digest}", text, codec)


@dataclass
class Entry:
    """One job key's files: its result, its lock and its progress."""
    folder: Path
    name: str
    key_text: str
    codec: Codec
    _published: float = -math.inf

    @property
    def path(self) -> Path:
        return self.folder / f"{self.name}.npz"

    @property
    def lock_path(self) -> Path:
        return self.folder / f"{self.name}.lock"

    @property
    def progress_path(self) -> Path:
        return self.folder / f"{self.name}.progress.json"

    # ---------------------------------------------------------------------------------------- the result
    def load(self) -> Any:
        """The stored result, or MISSING when there is none or it is unusable (logged, left to be written over)."""
        try:
            arrays = read_arrays(self.path)
        except FileNotFoundError:
            return MISSING
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as e:
            log.warning("ignored the damaged shared result %s (%s: %s); it is computed again", self.path.name,
                        type(e).__name__, e)
            return MISSING
        try:
            stored_key = bytes(arrays.pop(KEY_MEMBER)).decode()
            if stored_key != self.key_text:
                raise ValueError("made for another computation")
            result = self.codec.decode(arrays)
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as e:
            log.warning("ignored the shared result %s (%s: %s); it is computed again", self.path.name,
                        type(e).__name__, e)
            return MISSING
        with _quiet(OSError):
            os.utime(self.path)  # recently used: evicted last
        return result

    def save(self, result: Any) -> None:
        """Store a finished job's result atomically, then bound the folder; a result that cannot be stored is logged
        and stays in this process."""
        try:
            arrays = {name: np.asarray(a) for name, a in self.codec.encode(result).items()}
            arrays[KEY_MEMBER] = np.frombuffer(self.key_text.encode(), dtype=np.uint8)
            if any(a.dtype.hasobject for a in arrays.values()):
                raise ValueError("object arrays are never stored")
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{self.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    np.savez(f, **arrays)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with _quiet(OSError):
                    os.unlink(tmp)
                raise
        except Exception as e:  # noqa: BLE001 -- disk full, read-only folder, a result the codec refuses
            log.warning("could not store the shared result %s (%s: %s); it stays in this process", self.name,
                        type(e).__name__, e)
            return
        evict(self.folder)

    # ---------------------------------------------------------------------------------------- who computes it
    @contextmanager
    def lock(self) -> Iterator[bool]:
        """True for the `with` block if this process may compute the result (nobody else is), else False at once."""
        with try_lock(self.lock_path) as held:
            yield held

    def publish(self, title: str, done: int, total: int, started: float, force: bool = False) -> None:
        """Write how far this process is (at most every PROGRESS_EVERY seconds unless forced); `started` is
        time.time() at its start."""
        now = time.monotonic()
        if not force and now - self._published < PROGRESS_EVERY:
            return
        self._published = now
        text = json.dumps({"title": title, "done": int(done), "total": int(total), "started": float(started),
                           "pid": os.getpid()})
        with _quiet(OSError):
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{self.name}.", suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, self.progress_path)

    def unpublish(self) -> None:
        with _quiet(OSError):
            self.progress_path.unlink()

    def progress(self) -> dict | None:
        """{"title", "done", "total", "started"} of the process computing the result, or None if none is readable."""
        try:
            with open(self.progress_path, "rb") as f:
                raw = f.read(MAX_PROGRESS_BYTES + 1)
            p = json.loads(raw) if len(raw) <= MAX_PROGRESS_BYTES else None
            if (isinstance(p, dict) and isinstance(p.get("title"), str)
                    and all(isinstance(p.get(k), int) and p[k] >= 0 for k in ("done", "total"))
                    and isinstance(p.get("started"), float) and math.isfinite(p["started"])):
                return {k: p[k] for k in ("title", "done", "total", "started")}
        except (OSError, ValueError):
            pass
        return None

    def computing_elsewhere(self) -> dict | None:
        """The progress of another process computing this result right now, or None."""
        progress = self.progress()
        if progress is None:
            return None
        with try_lock(self.lock_path) as free:
            if free:  # a progress file left by a process that died: nobody computes it
                self.unpublish()
                return None
        return progress


# ------------------------------------------------------------------------------------------------ reading

def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz written by Entry.save: numeric only, never pickled objects, each member's header
    checked against the file before its bytes are read (a header cannot make this allocate more than the file)."""
    if path.is_symlink():
        raise ValueError("a link, not a result file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
    arrays = {}
    with zipfile.ZipFile(path) as z:
        members = z.infolist()
        if len(members) > MAX_MEMBERS:
            raise ValueError(f"more than {MAX_MEMBERS} arrays")
        for info in members:
            if not info.filename.endswith(".npy") or info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"unexpected member {info.filename!r}")
            with z.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f"unsupported .npy version {version}")
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(f)
                if dtype.hasobject or dtype.kind not in "biuf":
                    raise ValueError(f"{info.filename}: {dtype} is not a plain number type")
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > info.file_size:
                    raise ValueError(f"{info.filename}: its header claims more bytes than it holds")
                data = f.read(nbytes)
                if len(data) != nbytes:
                    raise EOFError(f"{info.filename}: truncated")
            arrays[info.filename[:-4]] = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return arrays


# ------------------------------------------------------------------------------------------------ bounds

def evict(where: Path) -> list[str]:
    """Bound the folder: the least recently used results beyond MAX_RESULTS files or MAX_BYTES go (with their lock and
    progress files, each removed only while its lock is held here: never under a process computing it), and so do
    lock files of results nobody computes and temporary files left by a process that died. Returns the names of
    the results removed."""
    try:
        entries = list(os.scandir(where))
    except OSError:
        return []
    results, locks, now = [], [], time.time()
    for e in entries:
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if e.name.endswith(".npz"):
            results.append((st.st_mtime, st.st_size, e.name[:-4]))
        elif e.name.endswith(".lock"):
            locks.append(e.name[:-5])
        elif e.name.endswith(".tmp") and now - st.st_mtime > STALE_TEMP_SECONDS:
            with _quiet(OSError):
                os.unlink(e.path)
    results.sort(reverse=True)  # newest first
    kept, total, removed = set(), 0, []
    for _mtime, size, name in results:
        if len(kept) < MAX_RESULTS and total + size <= MAX_BYTES:
            kept.add(name)
            total += size
            continue
        with _quiet(OSError):
            os.unlink(where / f"{name}.npz")
            removed.append(name)
    for name in locks:
        if name not in kept:
            _remove_lock(where, name)
    return removed


def _remove_lock(where: Path, name: str) -> None:
    """Remove a lock file (and its progress file) if nobody holds it: deleted while held here, so a process that
    opened it meanwhile finds it gone once it gets the lock and takes the new one (vae_core.file_lock.try_lock)."""
    path = where / f"{name}.lock"
    if not path.exists():
        return
    with _quiet(OSError), try_lock(path) as free:
        if free:
            with _quiet(OSError):
                (where / f"{name}.progress.json").unlink()
            path.unlink()


@contextmanager
def _quiet(*errors):
    try:
        yield
    except errors:
        pass
