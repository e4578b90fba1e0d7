"""The class map as this server process sees it: one store connection and one live copy of the drawings, shared by
every session (the presenter's page and every student watching read the copy; only the copy reads the database).

`refresh()` asks the store for what changed since its cursor at most every REFRESH_S, whoever calls it, so a room
of sessions polling every second costs the database one small query a second per worker. A database that fails
keeps the last copy on screen and the reason in `problem` (for the presenter); the store is opened again on the next
refresh after RETRY_S."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from explorer.classmap import settings
from explorer.classmap.store import (
    STATES,
    Accepted,
    ClassMapStore,
    ClassMapUnavailable,
    Drawing,
    Refused,
    Status,
    open_store,
    sqlite_path,
)
from explorer.model.files import checkpoint_dir

LOG = logging.getLogger(__name__)
REFRESH_S = 0.4  # the copy is at most this old when a session reads it
RETRY_S = 3.0  # a store that would not open is tried again after this long
UNAVAILABLE = "The class map is not taking drawings right now."  # what a student sees when the database fails


@dataclass
class Snapshot:
    """What a page draws: the drawings by id, the status, and a version that changes whenever either does."""
    drawings: dict = field(default_factory=dict)
    status: Status = field(default_factory=lambda: Status(True, False, dict.fromkeys(STATES, 0)))  # a new map's
    version: int = 0
    problem: str | None = None  # why the database is not usable, for the presenter


class Board:
    def __init__(self):
        self.settings = settings.read()
        self._lock = threading.Lock()
        self._store: ClassMapStore | None = None
        self._opened_at = -RETRY_S
        self._cursor = ""
        self._read_at = -REFRESH_S
        self.snapshot = Snapshot()

    # ---- the store ------------------------------------------------------------------------------------------------

    def store(self) -> ClassMapStore:
        """The open store, or ClassMapUnavailable (opened at most every RETRY_S)."""
        if self._store is not None:
            return self._store
        with self._lock:
            if self._store is None:
                if time.monotonic() - self._opened_at < RETRY_S and self.snapshot.problem:
                    raise ClassMapUnavailable(self.snapshot.problem)
                self._opened_at = time.monotonic()
                try:
                    self._store = open_store(self.settings.url, self.settings.limits, checkpoint_dir())
                except ClassMapUnavailable as e:
                    self._set_problem(str(e))
                    raise
            return self._store

    def _set_problem(self, problem: str | None) -> None:
        s = self.snapshot
        if problem and problem != s.problem:
            LOG.warning("The class map's database is not usable: %s", problem)
        if s.problem != problem:
            self.snapshot = Snapshot(s.drawings, s.status, s.version + 1, problem)

    def _do(self, work):
        """work(store) with a failing database turned into a problem (kept for the presenter) and re-raised."""
        try:
            result = work(self.store())
        except ClassMapUnavailable as e:
            self._set_problem(str(e))
            raise
        self._read_at = -REFRESH_S  # the next refresh reads at once: the writer sees its write
        return result

    # ---- writes ---------------------------------------------------------------------------------------------------

    def add(self, drawing: Drawing) -> Accepted | Refused:
        return self._do(lambda s: s.add(drawing))

    def set_state(self, drawing_id: int, state: str) -> bool:
        return self._do(lambda s: s.set_state(drawing_id, state))

    def clear(self) -> None:
        self._do(lambda s: s.clear())

    def set_flags(self, **flags) -> None:
        self._do(lambda s: s.set_flags(**flags))

    # ---- the live copy --------------------------------------------------------------------------------------------

    def refresh(self) -> Snapshot:
        """The copy, brought up to date if it is older than REFRESH_S (by one caller; the others read the copy)."""
        if time.monotonic() - self._read_at < REFRESH_S or not self._lock.acquire(blocking=False):
            return self.snapshot
        try:
            self._read_at = time.monotonic()
            try:
                store = self._store or self._open_quietly()
                if store is None:
                    return self.snapshot
                changes = store.changes(self._cursor)
            except ClassMapUnavailable as e:
                self._set_problem(str(e))
                return self.snapshot
            s = self.snapshot
            if not (changes.drawings or changes.reset or changes.status != s.status or s.problem):
                self._cursor = changes.cursor
                return s
            drawings = {} if changes.reset else dict(s.drawings)
            drawings.update((d.id, d) for d in changes.drawings)
            self.snapshot = Snapshot(drawings, changes.status, s.version + 1, None)
            self._cursor = changes.cursor
            return self.snapshot
        finally:
            self._lock.release()

    def _open_quietly(self) -> ClassMapStore | None:
        """store() from inside refresh (the lock is held): None while it cannot be opened -- or while its SQLite
        file does not exist yet: reading an empty class map creates nothing (the first write creates the file)."""
        path = sqlite_path(self.settings.url)
        if time.monotonic() - self._opened_at < RETRY_S or (path is not None and not path.exists()):
            return None
        self._opened_at = time.monotonic()
        try:
            self._store = open_store(self.settings.url, self.settings.limits, checkpoint_dir())
        except ClassMapUnavailable as e:
            self._set_problem(str(e))
            return None
        return self._store


@st.cache_resource(show_spinner=False)
def board() -> Board:
    """This process's class map (one per server, shared by every session)."""
    return Board()
