"""The class map's store, SQLite and Redis alike: drawings round-trip, the limits hold (also under threads racing),
moderation states and the change cursor, schema migrations, newer and damaged databases, and a database that fails
under the running app (locked, full, read-only, deleted, unreachable) -- refused with a reason, nothing stored lost.
The Redis store runs against a real redis-server started on 127.0.0.1 for the test module."""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from explorer.classmap import settings as cs
from explorer.classmap.settings import Limits
from explorer.classmap.store import (
    SCHEMA_VERSION,
    Accepted,
    ClassMapFileError,
    ClassMapUnavailable,
    Drawing,
    RedisStore,
    Refused,
    SqliteStore,
    open_store,
)

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
OPEN = Limits(interval_s=0.0, per_student=20, per_room=2000)


def drawing(student: str = "s1", seed: int = 0, state: str = "shown") -> Drawing:
    rng = np.random.default_rng(seed)
    return Drawing(rng.integers(0, 256, 784, dtype=np.uint8).tobytes(), tuple(rng.normal(size=2)),
                   float(rng.normal(120, 10)), float(rng.normal(100, 10)), int(rng.integers(10)), state, student,
                   "default")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A real redis-server on a free loopback port, without persistence; its URL."""
    if not os.path.exists(REDIS):
        pytest.fail("redis-server is not installed (scripts/test.sh installs it with apt)")
    folder = tmp_path_factory.mktemp("redis")
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen([REDIS, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1",
                                 "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis
        client = redis.Redis(port=port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        if proc.poll() is None:
            try:
                yield {"url": f"redis://127.0.0.1:{port}/0", "port": port, "proc": proc}
            finally:
                proc.terminate()
                proc.wait(10)
            return
    pytest.fail("redis-server did not start")


_counter = iter(range(10**9))


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request, tmp_path):
    """make_store(limits) -> a fresh, empty store of the parametrized kind."""
    made = []

    def make(limits: Limits = OPEN):
        if request.param == "sqlite":
            store = SqliteStore(tmp_path / f"db{next(_counter)}" / "classmap.sqlite3", limits)
        else:
            server = request.getfixturevalue("redis_server")
            store = RedisStore(server["url"], limits, prefix=f"test{next(_counter)}:")
        made.append(store)
        return store

    make.kind = request.param
    yield make
    for store in made:
        store.close()


def test_a_drawing_comes_back_as_it_was_sent(make_store):
    store = make_store()
    sent = drawing("alice", seed=3)
    result = store.add(sent)
    assert isinstance(result, Accepted) and result.state == "shown"
    (got,) = store.drawings()
    assert got.id == result.id and got.time > 0
    assert replace(got, id=0, time=0.0) == sent
    assert got.image().shape == (28, 28) and got.image().dtype == np.uint8
    assert store.status().counts == {"shown": 1, "held": 0, "hidden": 0}


def test_an_unchecked_drawing_never_reaches_the_database(make_store):
    store = make_store()
    for bad in (replace(drawing(), pixels=b"\x00" * 100), replace(drawing(), z=(float("nan"), 0.0)),
                replace(drawing(), state="deleted"), replace(drawing(), student=""),
                replace(drawing(), student="x" * 65), replace(drawing(), predicted=11)):
        with pytest.raises(ValueError):
            store.add(bad)
    assert store.drawings() == []


def test_a_student_waits_between_drawings_and_is_told_why(make_store):
    store = make_store(Limits(interval_s=60, per_student=20, per_room=2000))
    assert isinstance(store.add(drawing("bob")), Accepted)
    refused = store.add(drawing("bob", seed=1))
    assert isinstance(refused, Refused) and refused.code == "too_soon" and "Wait" in refused.reason
    assert isinstance(store.add(drawing("carol")), Accepted)  # another student is not held up
    assert len(store.drawings()) == 2


def test_a_student_sends_at_most_the_per_student_limit(make_store):
    store = make_store(Limits(interval_s=0, per_student=3, per_room=2000))
    results = [store.add(drawing("dan", seed=i)) for i in range(5)]
    assert [type(r) for r in results] == [Accepted] * 3 + [Refused] * 2
    assert results[-1].code == "student_limit" and "3 drawings" in results[-1].reason


def test_the_room_takes_at_most_the_per_room_limit(make_store):
    store = make_store(Limits(interval_s=0, per_student=20, per_room=4))
    results = [store.add(drawing(f"s{i}", seed=i)) for i in range(6)]
    assert sum(isinstance(r, Accepted) for r in results) == 4
    assert results[-1].code == "room_full"


def test_racing_threads_store_each_drawing_once_within_the_limits(make_store):
    """Two stores on the same database (two workers), eight threads each: one student sending 30 at once gets
    exactly per_student accepted; the ids are unique; the room limit holds too."""
    first = make_store(Limits(interval_s=0, per_student=5, per_room=40))
    second = SqliteStore(first.path, first.limits) if make_store.kind == "sqlite" else \
        RedisStore(first.client.connection_pool.connection_kwargs and _url(first), first.limits, prefix=first.prefix)
    results = []
    lock = threading.Lock()

    def send(store, student, seed):
        r = store.add(drawing(student, seed=seed))
        with lock:
            results.append((student, r))

    threads = [threading.Thread(target=send, args=((first, second)[i % 2], "greedy" if i < 30 else f"s{i}", i))
               for i in range(80)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = [r for _, r in results if isinstance(r, Accepted)]
    greedy = [r for s, r in results if s == "greedy" and isinstance(r, Accepted)]
    assert len(greedy) == 5
    assert len(accepted) == 40
    assert all(r.code in ("room_full", "student_limit") for _, r in results if isinstance(r, Refused))
    stored = first.drawings()
    assert sorted(d.id for d in stored) == sorted(r.id for r in accepted)
    second.close()


def _url(store: RedisStore) -> str:
    kw = store.client.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"


def test_moderation_states_move_and_the_cursor_sees_each_change(make_store):
    store = make_store()
    a = store.add(drawing("a", seed=1))
    b = store.add(drawing("b", seed=2, state="held"))
    first = store.changes("")
    assert first.reset and [d.id for d in first.drawings] == [a.id, b.id]
    assert store.changes(first.cursor).drawings == []  # nothing new
    assert store.set_state(b.id, "shown") and store.set_state(a.id, "hidden")
    assert not store.set_state(10**6, "shown")  # no such drawing
    with pytest.raises(ValueError):
        store.set_state(a.id, "gone")
    later = store.changes(first.cursor)
    assert not later.reset
    assert {d.id: d.state for d in later.drawings} == {a.id: "hidden", b.id: "shown"}
    assert later.status.counts == {"shown": 1, "held": 0, "hidden": 1}


def test_closing_refuses_sending_and_reopening_allows_it(make_store):
    store = make_store()
    store.set_flags(open=False, revealed=True)
    status = store.status()
    assert not status.open and status.revealed
    refused = store.add(drawing())
    assert isinstance(refused, Refused) and refused.code == "closed"
    store.set_flags(open=True)
    assert store.status().revealed  # untouched
    assert isinstance(store.add(drawing()), Accepted)


def test_clear_empties_the_map_resets_the_cursor_and_the_counts(make_store):
    store = make_store(Limits(interval_s=0, per_student=1, per_room=2000))
    store.add(drawing("eve"))
    cursor = store.changes("").cursor
    store.clear()
    after = store.changes(cursor)
    assert after.reset and after.drawings == [] and after.status.total == 0
    assert isinstance(store.add(drawing("eve")), Accepted)  # her count went with the drawings


def test_a_restart_keeps_the_class_map(make_store):
    store = make_store()
    store.add(drawing("f"))
    again = SqliteStore(store.path) if make_store.kind == "sqlite" else RedisStore(_url(store), prefix=store.prefix)
    assert [d.student for d in again.drawings()] == ["f"]
    again.close()


# ---- SQLite: the file ----------------------------------------------------------------------------------------------

def test_the_database_is_in_wal_mode_with_the_current_schema(tmp_path):
    store = SqliteStore(tmp_path / "a" / "classmap.sqlite3")
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


def test_an_older_database_is_migrated_and_keeps_its_drawings(tmp_path):
    from explorer.classmap.store import MIGRATIONS
    path = tmp_path / "classmap.sqlite3"
    con = sqlite3.connect(path)
    for statement in MIGRATIONS[1]:
        con.execute(statement)
    con.execute("INSERT INTO drawings VALUES (NULL, 1, 5.0, 'old', 'default', ?, 0.5, -0.5, 1.0, 2.0, 7, 'shown')",
                (bytes(784),))
    con.execute("UPDATE meta SET value = '1' WHERE key = 'rev'")
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    store = SqliteStore(path)
    (old,) = store.drawings()
    assert (old.student, old.z, old.predicted) == ("old", (0.5, -0.5), 7)
    assert isinstance(store.add(drawing("new")), Accepted)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_database_from_a_newer_version_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "classmap.sqlite3"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.close()
    before = path.read_bytes()
    with pytest.raises(ClassMapFileError, match="newer version"):
        SqliteStore(path)
    assert path.read_bytes() == before


def test_a_damaged_database_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "classmap.sqlite3"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(ClassMapFileError, match="damaged"):
        SqliteStore(path)
    try:
        SqliteStore(path)
    except ClassMapFileError as e:
        assert str(tmp_path) not in str(e)  # the reason names the file, not where it lives


def test_a_locked_database_refuses_with_a_reason_and_recovers(tmp_path):
    store = SqliteStore(tmp_path / "classmap.sqlite3", OPEN, busy_timeout_ms=200)
    store.add(drawing("before"))
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(ClassMapUnavailable, match="locked"):
        store.add(drawing("during"))
    holder.execute("ROLLBACK")
    holder.close()
    assert isinstance(store.add(drawing("after")), Accepted)
    assert [d.student for d in store.drawings()] == ["before", "after"]


def test_a_full_database_refuses_and_keeps_what_it_has(tmp_path):
    store = SqliteStore(tmp_path / "classmap.sqlite3", OPEN, max_bytes=16 * 4096)
    results = []
    with pytest.raises(ClassMapUnavailable, match="full"):
        for i in range(1000):
            results.append(store.add(drawing(f"s{i}", seed=i)))
    stored = store.drawings()
    assert len(stored) == len(results) > 0 and {d.id for d in stored} == {r.id for r in results}


def _read_only(paths, on: bool) -> None:
    """Make files read-only, for root too (which writes through permission bits): chattr's immutable flag."""
    for p in paths:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i" if on else "-i", str(p)], check=True)
        else:
            p.chmod(0o444 if on else 0o644)


def test_a_read_only_database_refuses_and_still_shows_its_drawings(tmp_path):
    store = SqliteStore(tmp_path / "classmap.sqlite3", OPEN)
    store.add(drawing("kept"))
    files = [store.path]  # the database file itself (its -wal and -shm are the running connections' to manage)
    _read_only(files, True)
    try:
        with pytest.raises(ClassMapUnavailable, match="read-only|cannot be opened"):
            store.add(drawing("refused"))
    finally:
        _read_only(files, False)
    assert [d.student for d in store.drawings()] == ["kept"]


def test_a_deleted_database_refuses_instead_of_starting_an_empty_one(tmp_path):
    store = SqliteStore(tmp_path / "classmap.sqlite3", OPEN)
    store.add(drawing())
    for p in tmp_path.glob("classmap.sqlite3*"):
        p.unlink()
    with pytest.raises(ClassMapUnavailable, match="gone"):
        store.add(drawing("after"))
    with pytest.raises(ClassMapUnavailable):
        store.changes("")
    assert not (tmp_path / "classmap.sqlite3").exists()


# ---- Redis: the server ---------------------------------------------------------------------------------------------

def test_redis_keys_from_a_newer_version_are_refused(redis_server):
    import redis
    redis.Redis.from_url(redis_server["url"]).hset("newer:meta", "schema", 99)
    with pytest.raises(ClassMapFileError, match="newer version"):
        RedisStore(redis_server["url"], prefix="newer:")


def test_redis_keys_holding_something_else_are_refused(redis_server):
    import redis
    redis.Redis.from_url(redis_server["url"]).set("other:meta", "a string")
    with pytest.raises(ClassMapFileError):
        RedisStore(redis_server["url"], prefix="other:")


def test_a_full_redis_refuses_with_a_reason_and_keeps_what_it_has(redis_server):
    import redis
    admin = redis.Redis.from_url(redis_server["url"])
    store = RedisStore(redis_server["url"], OPEN, prefix="full:")
    kept = store.add(drawing("kept"))
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", 1)
    try:
        with pytest.raises(ClassMapUnavailable, match="out of memory"):
            store.add(drawing("refused"))
    finally:
        admin.config_set("maxmemory", 0)
    assert [d.id for d in store.drawings()] == [kept.id]


def test_an_unreachable_redis_refuses_with_a_reason():
    store_url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(ClassMapUnavailable, match="cannot be reached"):
        RedisStore(store_url, timeout_s=0.5)


# ---- settings ------------------------------------------------------------------------------------------------------

def test_settings_default_to_a_sqlite_file_in_the_room_data_folder():
    s = cs.read({})
    assert s.url == "sqlite:///room-data/classmap.sqlite3"
    assert s.limits == Limits(5.0, 20, 2000) and s.hold_above is None
    s = cs.read({"VAE_ROOM_DATA_DIR": "/srv/room", "VAE_CLASSMAP_PER_STUDENT": "3", "VAE_CLASSMAP_INTERVAL_S": "nan",
                 "VAE_CLASSMAP_PER_ROOM": "-5", "VAE_CLASSMAP_HOLD_ABOVE": "150"})
    assert s.url == "sqlite:////srv/room/classmap.sqlite3"
    assert s.limits == Limits(5.0, 3, 2000) and s.hold_above == 150.0


def test_open_store_reads_the_url(tmp_path, redis_server):
    store = open_store(f"sqlite:///{tmp_path}/x/classmap.sqlite3")
    assert isinstance(store, SqliteStore) and store.path == tmp_path / "x" / "classmap.sqlite3"
    assert isinstance(open_store(redis_server["url"]), RedisStore)
    with pytest.raises(ClassMapUnavailable, match="must start with"):
        open_store("postgres://db/x")
    with pytest.raises(ClassMapUnavailable, match="checkpoints folder"):
        open_store(f"sqlite:///{tmp_path}/ckpt/room/classmap.sqlite3", not_under=tmp_path / "ckpt")
    assert not (tmp_path / "ckpt").exists()
