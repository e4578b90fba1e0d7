"""The class map's settings, parsed from the environment as one group (names, defaults and meanings in
vae_core/settings.py and the README).

VAE_CLASSMAP_URL          where the drawings live: sqlite:///<path> (default: <room data>/classmap.sqlite3) or
                          redis://host:port/db
VAE_ROOM_DATA_DIR         the room's data folder (default ./room-data; never inside checkpoints/)
VAE_CLASSMAP_INTERVAL_S   seconds a student waits between two drawings (default 5)
VAE_CLASSMAP_PER_STUDENT  drawings one student may send (default 20)
VAE_CLASSMAP_PER_ROOM     drawings the whole room may send (default 2000)
VAE_CLASSMAP_HOLD_ABOVE   corrected anomaly score (nats) above which a drawing waits for the presenter (default: the
                          Anomalies page's default threshold, the 99th percentile of the test digits' scores)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from vae_core.settings import CLASSMAP_HOLD_ENV as HOLD_ENV
from vae_core.settings import CLASSMAP_INTERVAL_ENV as INTERVAL_ENV
from vae_core.settings import CLASSMAP_PER_ROOM_ENV as PER_ROOM_ENV
from vae_core.settings import CLASSMAP_PER_STUDENT_ENV as PER_STUDENT_ENV
from vae_core.settings import CLASSMAP_URL_ENV as URL_ENV
from vae_core.settings import DEFAULT_ROOM_DATA_DIR as DEFAULT_DATA_DIR
from vae_core.settings import ROOM_DATA_ENV as DATA_DIR_ENV
from vae_core.settings import environment

DB_NAME = "classmap.sqlite3"


@dataclass(frozen=True)
class Limits:
    """How much a student and the room may send."""
    interval_s: float = 5.0  # between two drawings of one student
    per_student: int = 20
    per_room: int = 2000


@dataclass(frozen=True)
class Settings:
    url: str
    limits: Limits
    hold_above: float | None  # None: the Anomalies page's default threshold


def _number(environ, name: str, default, kind, lo):
    """A setting's value, or its default when unset or unusable (not a number, below lo, not finite)."""
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= lo else default


def default_url(environ=None) -> str:
    environ = environment() if environ is None else environ
    folder = Path(environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    return f"sqlite:///{folder / DB_NAME}"


def read(environ=None) -> Settings:
    environ = environment() if environ is None else environ
    limits = Limits(_number(environ, INTERVAL_ENV, Limits.interval_s, float, 0.0),
                    _number(environ, PER_STUDENT_ENV, Limits.per_student, int, 1),
                    _number(environ, PER_ROOM_ENV, Limits.per_room, int, 1))
    hold = _number(environ, HOLD_ENV, None, float, -math.inf)
    return Settings(environ.get(URL_ENV, "").strip() or default_url(environ), limits, hold)
