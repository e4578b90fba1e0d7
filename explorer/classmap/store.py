"""Where the class map's drawings live, shared by every worker process: one interface (ClassMapStore), two stores.

- SqliteStore: Python's sqlite3, one file in WAL mode (the default: nothing to install or start). Each call opens its
  own connection (mode=rw: a deleted file is an error, not a new empty database) with a busy timeout, so any number of
  processes and threads share the file; every write is one transaction, and `add` checks the limits inside the write
  lock (BEGIN IMMEDIATE), so two workers never both accept a student's 21st drawing.
- RedisStore: the `redis` package, for workers on several machines (SQLite must not sit on a network file system).
  Each write is one Lua script, which Redis runs atomically.

A drawing here has been checked already (explorer.classmap.drawing); the store checks its fields again before they
reach the database. Nothing stored identifies a student: `student` is a random per-browser id.

The map is read by a cursor: `changes(cursor)` returns the drawings added or changed since (every write bumps a
revision), or all of them with reset=True after a clear (or when the database was replaced). Failures of the database
itself (locked, full, read-only, deleted, unreachable) raise ClassMapUnavailable with a reason fit for the presenter;
a file made by a newer version or a damaged one raises ClassMapFileError (a kind of it). No Streamlit here."""
from __future__ import annotations

import math
import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import numpy as np

from explorer.classmap.settings import Limits

DEFAULT_LIMITS = Limits()
SIDE = 28  # a drawing is a 28 x 28 uint8 digit, as the model sees it
STATES = ("shown", "held", "hidden")  # on the map; waiting for the presenter; taken off by the presenter
SCHEMA_VERSION = 2
MAX_ID_CHARS = 64  # a student's random id, a model's name
BUSY_TIMEOUT_MS = 10000  # a worker waits this long for another's write before it reports the database locked
WRITER_WAIT_S = 20.0  # a thread waits this long for the other writes of its process
MAX_DB_BYTES = 256 * 2**20  # far above 2,000 drawings (~1 KB each): a bound on the file, not a working limit

# Why a drawing is refused: (code, message for the student). The store fills in the numbers.
REASONS = {
    "closed": "The presenter has closed sending for now.",
    "room_full": "The class map is full: it holds {n:,} drawings, the most it takes.",
    "student_limit": "You have sent {n} drawings, the most one person can send.",
    "too_soon": "Wait {s:.0f} s before sending another drawing.",
}


class ClassMapUnavailable(Exception):
    """The database cannot take or give drawings right now; str(e) says why (for the presenter, no paths)."""


class ClassMapFileError(ClassMapUnavailable):
    """The database was made by a newer version of this app, or is damaged: it is left as it is."""


@dataclass(frozen=True)
class Drawing:
    pixels: bytes  # SIDE * SIDE uint8, row-major
    z: tuple[float, float]  # the latent mean it was encoded to
    corrected: float  # corrected anomaly score, nats (higher = less like a digit)
    neg_elbo: float  # -ELBO, nats
    predicted: int  # the 5-NN class among the test digits' latent codes
    state: str  # one of STATES
    student: str  # random per-browser id: the rate limit and "you are here"
    model: str  # the name of the model that encoded it
    time: float = 0.0  # set by the store (seconds since the epoch)
    id: int = 0  # set by the store

    def image(self) -> np.ndarray:
        return np.frombuffer(self.pixels, dtype=np.uint8).reshape(SIDE, SIDE)


@dataclass(frozen=True)
class Accepted:
    id: int
    state: str


@dataclass(frozen=True)
class Refused:
    code: str  # a key of REASONS
    reason: str  # for the student


@dataclass(frozen=True)
class Status:
    open: bool  # students may send
    revealed: bool  # students may watch the class map
    counts: dict = field(default_factory=dict)  # state -> number of drawings

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Changes:
    drawings: list  # added or changed since the cursor (all of them if reset)
    cursor: str  # pass it to the next `changes`
    reset: bool  # the map was cleared or replaced: drop what you had
    status: Status


def check(drawing: Drawing) -> Drawing:
    """The drawing's fields as the database takes them, or ValueError: nothing unchecked is stored."""
    if not isinstance(drawing.pixels, bytes) or len(drawing.pixels) != SIDE * SIDE:
        raise ValueError(f"a drawing is {SIDE * SIDE} bytes")
    values = (*drawing.z, drawing.corrected, drawing.neg_elbo)
    if len(drawing.z) != 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise ValueError("z and the scores must be finite numbers")
    if not (isinstance(drawing.predicted, int) and 0 <= drawing.predicted <= 9):
        raise ValueError("the predicted class is a digit 0-9")
    if drawing.state not in STATES:
        raise ValueError(f"state must be one of {STATES}")
    for name in ("student", "model"):
        text = getattr(drawing, name)
        if not (isinstance(text, str) and 0 < len(text) <= MAX_ID_CHARS and text.isprintable()):
            raise ValueError(f"{name} must be 1-{MAX_ID_CHARS} printable characters")
    return replace(drawing, z=(float(drawing.z[0]), float(drawing.z[1])), corrected=float(drawing.corrected),
                   neg_elbo=float(drawing.neg_elbo))


def refusal(code: str, limits: Limits, wait_s: float = 0.0) -> Refused:
    n = limits.per_room if code == "room_full" else limits.per_student
    return Refused(code, REASONS[code].format(n=n, s=max(1.0, math.ceil(wait_s))))


class ClassMapStore(ABC):
    """The drawings of one room, shared by every worker."""

    limits: Limits
    kind: str  # "SQLite" or "Redis", for the presenter

    @abstractmethod
    def add(self, drawing: Drawing) -> Accepted | Refused:
        """Store a drawing if sending is open and the student and the room are within the limits (atomically)."""

    @abstractmethod
    def changes(self, cursor: str = "") -> Changes:
        """What changed since `cursor` ("" = everything)."""

    @abstractmethod
    def set_state(self, drawing_id: int, state: str) -> bool:
        """Show, hold or hide a drawing; False if there is no such drawing."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every drawing (and every student's count)."""

    @abstractmethod
    def set_flags(self, *, open: bool | None = None, revealed: bool | None = None) -> None:
        """Open or close sending; reveal the map to the students or not."""

    def drawings(self) -> list[Drawing]:
        return self.changes("").drawings

    def status(self) -> Status:
        return self.changes("~").status  # a cursor past the end: no drawings, just the status

    def close(self) -> None:  # noqa: B027 -- a store that holds nothing releases nothing
        """Release what the store holds (connections)."""


def _cursor(epoch: str, rev: int) -> str:
    return f"{epoch}:{rev}"


def _since(cursor: str, epoch: str, cleared: int, rev: int) -> int | None:
    """The revision to read after, or None to read everything (no cursor, another epoch, a clear since)."""
    if cursor == "~":
        return rev
    head, _, tail = cursor.partition(":")
    if head != epoch or not tail.isdigit():
        return None
    since = int(tail)
    return None if since < cleared or since > rev else since


# ---- SQLite ---------------------------------------------------------------------------------------------------------

MIGRATIONS = {  # version -> the statements that bring a database from the version before to it
    1: ["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE drawings (id INTEGER PRIMARY KEY AUTOINCREMENT, rev INTEGER NOT NULL, time REAL NOT NULL, "
        "student TEXT NOT NULL, model TEXT NOT NULL, pixels BLOB NOT NULL, z1 REAL NOT NULL, z2 REAL NOT NULL, "
        "corrected REAL NOT NULL, neg_elbo REAL NOT NULL, predicted INTEGER NOT NULL, "
        "state TEXT NOT NULL CHECK (state IN ('shown', 'held', 'hidden')))",
        "INSERT INTO meta VALUES ('rev', '0'), ('cleared', '0'), ('open', '1'), ('revealed', '0')"],
    2: ["CREATE INDEX drawings_by_rev ON drawings (rev)",  # the presenter's poll reads what changed since a revision
        "CREATE INDEX drawings_by_student ON drawings (student, time)",  # the rate limit
        "INSERT OR IGNORE INTO meta VALUES ('epoch', lower(hex(randomblob(8))))"],
}
COLUMNS = "id, rev, time, student, model, pixels, z1, z2, corrected, neg_elbo, predicted, state"


def _sqlite_reason(e: sqlite3.Error) -> str:
    text = str(e).lower()
    if "locked" in text or "busy" in text:
        return "the database is locked by another process"
    if "full" in text:
        return "the disk (or the database's size limit) is full"
    if "readonly" in text or "read-only" in text:
        return "the database file is read-only"
    if "unable to open" in text:
        return "the database file cannot be opened (was it deleted or moved?)"
    if "i/o" in text:
        return "the disk reported an I/O error"
    return f"the database reported: {e}"


class SqliteStore(ClassMapStore):
    kind = "SQLite"

    def __init__(self, path: str | Path, limits: Limits = DEFAULT_LIMITS, busy_timeout_ms: int = BUSY_TIMEOUT_MS,
                 max_bytes: int = MAX_DB_BYTES):
        self.path, self.limits = Path(path), limits
        self.busy_timeout_ms, self.max_bytes = busy_timeout_ms, max_bytes
        self._uri = f"file:{quote(str(self.path.resolve()))}"
        # One writer per process at a time: the others wait here, in line, rather than in SQLite's busy handler,
        # whose sleeps and retries starve some of a hundred threads past any timeout. Across processes SQLite's own
        # lock decides, between a few writers.
        self._writer = threading.Lock()
        self._open()

    def _open(self) -> None:
        """Create the file (and its folder) or bring its schema up to date; refuse a newer or damaged one."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ClassMapUnavailable(f"the data folder cannot be created ({e.strerror})") from None
        con = self._connect("rwc")
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ClassMapFileError(f"{self.path.name} was made by a newer version of this app (schema {version}, "
                                        f"this one reads {SCHEMA_VERSION}); it is left as it is")
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode=WAL")
            if version < SCHEMA_VERSION:
                self._migrate(con)
        except sqlite3.DatabaseError as e:
            raise self._error(e) from None
        finally:
            con.close()

    def _migrate(self, con: sqlite3.Connection) -> None:
        con.execute("BEGIN IMMEDIATE")  # another worker may be migrating too: read the version inside the lock
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    con.execute(statement)
            con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _error(self, e: sqlite3.Error) -> ClassMapUnavailable:
        text = str(e).lower()
        if "not a database" in text or "malformed" in text or "no such table" in text or "corrupt" in text:
            return ClassMapFileError(f"{self.path.name} is damaged or not a class map ({e}); it is left as it is")
        return ClassMapUnavailable(_sqlite_reason(e))

    def _connect(self, mode: str = "rw") -> sqlite3.Connection:
        if mode == "rw" and not self.path.exists():
            raise ClassMapUnavailable(f"the database file {self.path.name} is gone (deleted or moved)")
        try:
            con = sqlite3.connect(f"{self._uri}?mode={mode}", uri=True, timeout=self.busy_timeout_ms / 1000,
                                  isolation_level=None, check_same_thread=False)
            con.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
            con.execute(f"PRAGMA max_page_count={max(16, self.max_bytes // 4096)}")
            return con
        except sqlite3.Error as e:
            raise self._error(e) from None

    def _run(self, work, write: bool):
        """work(connection) in one transaction (a write takes the locks first); sqlite errors become ours."""
        if not write:
            return self._transaction(work, "BEGIN")
        if not self._writer.acquire(timeout=WRITER_WAIT_S):
            raise ClassMapUnavailable("the database is busy: drawings wait too long to be written")
        try:
            return self._transaction(work, "BEGIN IMMEDIATE")
        finally:
            self._writer.release()

    def _transaction(self, work, begin: str):
        con = self._connect()
        try:
            con.execute(begin)
            try:
                result = work(con)
                con.execute("COMMIT")
                return result
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        except sqlite3.Error as e:
            raise self._error(e) from None
        finally:
            con.close()

    @staticmethod
    def _meta(con) -> dict[str, str]:
        return dict(con.execute("SELECT key, value FROM meta"))

    @staticmethod
    def _bump(con, meta: dict) -> int:
        rev = int(meta["rev"]) + 1
        con.execute("UPDATE meta SET value = ? WHERE key = 'rev'", (str(rev),))
        return rev

    def add(self, drawing: Drawing) -> Accepted | Refused:
        d = check(drawing)

        def work(con):  # few statements: under load each one waits for the GIL while holding the write lock
            is_open, rev, in_room, n, last = con.execute(
                "SELECT (SELECT value FROM meta WHERE key = 'open'), (SELECT value FROM meta WHERE key = 'rev'), "
                "(SELECT COUNT(*) FROM drawings), COUNT(*), MAX(time) FROM drawings WHERE student = ?",
                (d.student,)).fetchone()
            if is_open != "1":
                return refusal("closed", self.limits)
            if in_room >= self.limits.per_room:
                return refusal("room_full", self.limits)
            if n >= self.limits.per_student:
                return refusal("student_limit", self.limits)
            now = time.time()
            if last is not None and now - last < self.limits.interval_s:
                return refusal("too_soon", self.limits, self.limits.interval_s - (now - last))
            rev = int(rev) + 1
            cur = con.execute(f"INSERT INTO drawings ({COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              (rev, now, d.student, d.model, d.pixels, *d.z, d.corrected, d.neg_elbo, d.predicted,
                               d.state))
            con.execute("UPDATE meta SET value = ? WHERE key = 'rev'", (str(rev),))
            return Accepted(cur.lastrowid, d.state)

        return self._run(work, write=True)

    def changes(self, cursor: str = "") -> Changes:
        def work(con):
            meta = self._meta(con)
            rev, cleared = int(meta["rev"]), int(meta["cleared"])
            since = _since(cursor, meta["epoch"], cleared, rev)
            rows = con.execute(f"SELECT {COLUMNS} FROM drawings WHERE rev > ? ORDER BY id",
                               (-1 if since is None else since,)).fetchall()
            counts = dict(con.execute("SELECT state, COUNT(*) FROM drawings GROUP BY state"))
            status = Status(meta["open"] == "1", meta["revealed"] == "1", {s: counts.get(s, 0) for s in STATES})
            return Changes([_row(r) for r in rows], _cursor(meta["epoch"], rev), since is None, status)

        return self._run(work, write=False)

    def set_state(self, drawing_id: int, state: str) -> bool:
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}")

        def work(con):
            if con.execute("SELECT 1 FROM drawings WHERE id = ?", (int(drawing_id),)).fetchone() is None:
                return False
            rev = self._bump(con, self._meta(con))
            con.execute("UPDATE drawings SET state = ?, rev = ? WHERE id = ?", (state, rev, int(drawing_id)))
            return True

        return self._run(work, write=True)

    def clear(self) -> None:
        def work(con):
            rev = self._bump(con, self._meta(con))
            con.execute("DELETE FROM drawings")
            con.execute("UPDATE meta SET value = ? WHERE key = 'cleared'", (str(rev),))

        self._run(work, write=True)

    def set_flags(self, *, open: bool | None = None, revealed: bool | None = None) -> None:
        def work(con):
            self._bump(con, self._meta(con))
            for name, value in (("open", open), ("revealed", revealed)):
                if value is not None:
                    con.execute("UPDATE meta SET value = ? WHERE key = ?", ("1" if value else "0", name))

        self._run(work, write=True)


def _row(r) -> Drawing:
    id_, _, t, student, model, pixels, z1, z2, corrected, neg_elbo, predicted, state = r
    return Drawing(bytes(pixels), (z1, z2), corrected, neg_elbo, int(predicted), state, student, model, t, int(id_))


# ---- Redis ----------------------------------------------------------------------------------------------------------

REDIS_SCHEMA = 1
_INIT = """
local meta = KEYS[1]
if redis.call('EXISTS', meta) == 1 and redis.call('TYPE', meta)['ok'] ~= 'hash' then return 'damaged' end
local version = tonumber(redis.call('HGET', meta, 'schema') or '0')
if version > tonumber(ARGV[1]) then return 'newer:' .. version end
for i, k in ipairs({'rev', 'cleared', 'ids'}) do redis.call('HSETNX', meta, k, '0') end
redis.call('HSETNX', meta, 'open', '1')
redis.call('HSETNX', meta, 'revealed', '0')
redis.call('HSETNX', meta, 'epoch', ARGV[2])
redis.call('HSET', meta, 'schema', ARGV[1])
return 'ok'
"""
# KEYS: meta, revs (id by revision), counts (student -> drawings), last (student -> time of the last one)
# ARGV: student, interval, per_student, per_room, drawing key prefix, then the drawing's fields and values
_ADD = """
local meta, revs, counts, last = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local student = ARGV[1]
if redis.call('HGET', meta, 'open') ~= '1' then return {'closed'} end
if redis.call('ZCARD', revs) >= tonumber(ARGV[4]) then return {'room_full'} end
if tonumber(redis.call('HGET', counts, student) or '0') >= tonumber(ARGV[3]) then return {'student_limit'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local previous = redis.call('HGET', last, student)
if previous and now - tonumber(previous) < tonumber(ARGV[2]) then
  return {'too_soon', tostring(tonumber(ARGV[2]) - (now - tonumber(previous)))}
end
local id = redis.call('HINCRBY', meta, 'ids', 1)
local rev = redis.call('HINCRBY', meta, 'rev', 1)
local key = ARGV[5] .. id
redis.call('HSET', key, 'id', id, 'rev', rev, 'time', string.format('%.6f', now))
for i = 6, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', revs, rev, id)
redis.call('HINCRBY', counts, student, 1)
redis.call('HSET', last, student, string.format('%.6f', now))
return {'ok', tostring(id)}
"""
_SET_STATE = """
local key = ARGV[2] .. ARGV[1]
if redis.call('EXISTS', key) == 0 then return 0 end
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', key, 'state', ARGV[3], 'rev', rev)
redis.call('ZADD', KEYS[2], rev, ARGV[1])
return 1
"""
_CLEAR = """
for i, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', KEYS[1], 'cleared', rev)
return rev
"""
_FLAGS = """
redis.call('HINCRBY', KEYS[1], 'rev', 1)
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""
FIELDS = ("student", "model", "pixels", "z1", "z2", "corrected", "neg_elbo", "predicted", "state")


def _redis_reason(e: Exception) -> str:
    import redis

    text = str(e)
    if isinstance(e, (redis.ConnectionError, redis.TimeoutError)):
        return "the Redis server cannot be reached"
    if text.startswith("OOM") or "maxmemory" in text:
        return "the Redis server is out of memory (full)"
    if text.startswith("READONLY"):
        return "the Redis server is read-only (a replica)"
    if text.startswith("MISCONF"):
        return "the Redis server cannot save to its disk"
    if text.startswith("WRONGTYPE"):
        return "the Redis keys of the class map hold something else"
    return f"the Redis server reported: {text[:120]}"


class RedisStore(ClassMapStore):
    kind = "Redis"

    def __init__(self, url: str, limits: Limits = DEFAULT_LIMITS, prefix: str = "vae:classmap:", timeout_s: float = 2.0):
        import redis

        self.limits, self.prefix = limits, prefix
        self.client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self.keys = [prefix + k for k in ("meta", "revs", "counts", "last")]
        self._scripts = {name: self.client.register_script(src)
                         for name, src in (("init", _INIT), ("add", _ADD), ("state", _SET_STATE), ("clear", _CLEAR),
                                           ("flags", _FLAGS))}
        answer = self._call(lambda: self._scripts["init"](keys=self.keys[:1],
                                                          args=[REDIS_SCHEMA, secrets.token_hex(8)])).decode()
        if answer == "damaged":
            raise ClassMapFileError("the Redis keys of the class map hold something else; they are left as they are")
        if answer.startswith("newer:"):
            raise ClassMapFileError(f"the class map in Redis was made by a newer version of this app (schema "
                                    f"{answer[6:]}, this one reads {REDIS_SCHEMA}); it is left as it is")

    def _call(self, work):
        import redis

        try:
            return work()
        except redis.RedisError as e:
            if str(e).startswith("WRONGTYPE"):
                raise ClassMapFileError(_redis_reason(e)) from None
            raise ClassMapUnavailable(_redis_reason(e)) from None

    def add(self, drawing: Drawing) -> Accepted | Refused:
        d = check(drawing)
        values = {"student": d.student, "model": d.model, "pixels": d.pixels, "z1": repr(d.z[0]), "z2": repr(d.z[1]),
                  "corrected": repr(d.corrected), "neg_elbo": repr(d.neg_elbo), "predicted": d.predicted,
                  "state": d.state}
        args = [d.student, self.limits.interval_s, self.limits.per_student, self.limits.per_room, self.prefix + "d:"]
        args += [v for name in FIELDS for v in (name, values[name])]
        answer = self._call(lambda: self._scripts["add"](keys=self.keys, args=args))
        code = answer[0].decode()
        if code == "ok":
            return Accepted(int(answer[1]), d.state)
        return refusal(code, self.limits, float(answer[1]) if len(answer) > 1 else 0.0)

    def changes(self, cursor: str = "") -> Changes:
        def work():
            meta = {k.decode(): v.decode() for k, v in self.client.hgetall(self.keys[0]).items()}
            rev, cleared = int(meta.get("rev", 0)), int(meta.get("cleared", 0))
            since = _since(cursor, meta.get("epoch", ""), cleared, rev)
            ids = self.client.zrangebyscore(self.keys[1], "-inf" if since is None else f"({since}", "+inf")
            pipe = self.client.pipeline(transaction=False)
            for i in ids:
                pipe.hgetall(self.prefix + "d:" + i.decode())
            rows = [self._drawing(h) for h in pipe.execute() if h]
            counts = dict.fromkeys(STATES, 0)
            if since is None:  # everything was read: count it
                for d in rows:
                    counts[d.state] += 1
            else:
                counts = self._counts()
            status = Status(meta.get("open") == "1", meta.get("revealed") == "1", counts)
            return Changes(sorted(rows, key=lambda d: d.id), _cursor(meta.get("epoch", ""), rev), since is None,
                           status)

        return self._call(work)

    def _counts(self) -> dict:
        """Drawings by state: the states of all drawings, one small field each."""
        pipe = self.client.pipeline(transaction=False)
        for i in self.client.zrange(self.keys[1], 0, -1):
            pipe.hget(self.prefix + "d:" + i.decode(), "state")
        counts = dict.fromkeys(STATES, 0)
        for state in pipe.execute():
            if state is not None:
                counts[state.decode()] += 1
        return counts

    @staticmethod
    def _drawing(h: dict) -> Drawing:
        g = {k.decode(): v for k, v in h.items()}
        s = {k: v.decode() for k, v in g.items() if k != "pixels"}
        return Drawing(bytes(g["pixels"]), (float(s["z1"]), float(s["z2"])), float(s["corrected"]),
                       float(s["neg_elbo"]), int(s["predicted"]), s["state"], s["student"], s["model"],
                       float(s["time"]), int(s["id"]))

    def set_state(self, drawing_id: int, state: str) -> bool:
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}")
        return bool(self._call(lambda: self._scripts["state"](keys=self.keys[:2],
                                                              args=[int(drawing_id), self.prefix + "d:", state])))

    def clear(self) -> None:
        self._call(lambda: self._scripts["clear"](keys=self.keys, args=[self.prefix + "d:"]))

    def set_flags(self, *, open: bool | None = None, revealed: bool | None = None) -> None:
        args = [v for name, value in (("open", open), ("revealed", revealed)) if value is not None
                for v in (name, "1" if value else "0")]
        self._call(lambda: self._scripts["flags"](keys=self.keys[:1], args=args))

    def close(self) -> None:
        self.client.close()


def sqlite_path(url: str) -> Path | None:
    """The file a sqlite:/// URL names (None for another URL or none)."""
    return Path(unquote(url[len("sqlite:///"):])) if url.startswith("sqlite:///") and len(url) > 10 else None


def open_store(url: str, limits: Limits = DEFAULT_LIMITS, not_under: Path | None = None) -> ClassMapStore:
    """The store a URL names: sqlite:///relative/or//absolute/path.sqlite3 or redis://host:port/db. not_under: a
    folder the SQLite file must not be in (the checkpoints: models and a room's drawings are kept apart)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = sqlite_path(url)
        if path is None:
            raise ClassMapUnavailable("VAE_CLASSMAP_URL names no SQLite file (sqlite:///path/to/classmap.sqlite3)")
        if not_under is not None and Path(path).resolve().is_relative_to(Path(not_under).resolve()):
            raise ClassMapUnavailable("the class map's database must not be inside the checkpoints folder: set "
                                      "VAE_ROOM_DATA_DIR or VAE_CLASSMAP_URL elsewhere")
        return SqliteStore(path, limits)
    if parts.scheme in ("redis", "rediss", "unix"):
        return RedisStore(url, limits)
    raise ClassMapUnavailable(f"VAE_CLASSMAP_URL must start with sqlite:/// or redis:// (it starts with "
                              f"{parts.scheme or 'nothing'}:)")
