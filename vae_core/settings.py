"""Every environment variable the engine and the app read (name, default, meaning), and where the project lives.

Each accessor reads the environment when it is called, so a test's monkeypatch.setenv (or a notebook's os.environ)
is seen at once. No other module reads os.environ; the app reads its own variables here too, since the engine
cannot import the app. The README's settings table is `settings_table()` (tests/test_settings.py keeps them equal).
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: app.py, checkpoints/, vae_core/
SHIPPED_DIR = PROJECT_ROOT / "checkpoints"
DEFAULT_CHECKPOINT = SHIPPED_DIR / "default.pt"  # the shipped model the app opens and the CLI evaluates

DATA_ENV = "VAE_DATA_DIR"
CACHE_ENV = "VAE_CACHE_DIR"
BUDGET_ENV = "VAE_MAX_TRAIN_MINUTES"
CHECKPOINT_DIR_ENV = "VAE_CHECKPOINT_DIR"
MAX_MODELS_ENV = "VAE_MAX_MODELS"
WARM_ANOMALY_ENV = "VAE_WARM_ANOMALY_SCORES"
WARM_ANOMALY_DELAY_ENV = "VAE_WARM_ANOMALY_DELAY_S"
TOKEN_ENV = "VAE_PRESENTER_TOKEN"
AUDIENCE_URL_ENV = "VAE_AUDIENCE_URL"
TRAINING_ENV = "VAE_TRAINING"
ROOM_DATA_ENV = "VAE_ROOM_DATA_DIR"
CLASSMAP_URL_ENV = "VAE_CLASSMAP_URL"
CLASSMAP_INTERVAL_ENV = "VAE_CLASSMAP_INTERVAL_S"
CLASSMAP_PER_STUDENT_ENV = "VAE_CLASSMAP_PER_STUDENT"
CLASSMAP_PER_ROOM_ENV = "VAE_CLASSMAP_PER_ROOM"
CLASSMAP_HOLD_ENV = "VAE_CLASSMAP_HOLD_ABOVE"
FIRST_DRAW_ENV = "VAE_FIRST_DRAW_SECONDS"

DEFAULT_DATA_DIR = "./data"
# 20 min: the app's quick runs (a few epochs of the default model on a subset) take a minute or two, a full
# 10-epoch run of it a few minutes; rebuilding the shipped 160-epoch default means raising the budget on purpose
DEFAULT_BUDGET_MINUTES = 20.0
DEFAULT_WARM_ANOMALY_DELAY = 20.0
DEFAULT_MAX_MODELS = 20  # app-trained models kept in the folder at most: ~3-13 MB each
DEFAULT_ROOM_DATA_DIR = "room-data"
# longer than a first map takes to draw once it has arrived on a 2-core laptop (docs/performance.md, First view); a
# phone slower than that gets the rest of the page a little later, never more than this after its map
DEFAULT_FIRST_DRAW_SECONDS = 2.5


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as the README shows it
    meaning: str


SETTINGS = (
    Setting(DATA_ENV, DEFAULT_DATA_DIR, "the folder that holds MNIST/raw (`python -m vae_core download` fills it)"),
    Setting(CACHE_ENV, "~/.cache/vae-latent-explorer", "where the repair check's pixel classifier is cached"),
    Setting(BUDGET_ENV, f"{DEFAULT_BUDGET_MINUTES:g}", "the wall-clock budget of one training, in minutes"),
    Setting(CHECKPOINT_DIR_ENV, "checkpoints/", "where models trained in the app are written"),
    Setting(MAX_MODELS_ENV, str(DEFAULT_MAX_MODELS), "app-trained models the checkpoint folder may hold"),
    Setting(WARM_ANOMALY_ENV, "1", "0 skips scoring the default model's test digits at start-up"),
    Setting(WARM_ANOMALY_DELAY_ENV, f"{DEFAULT_WARM_ANOMALY_DELAY:g}",
            "seconds after start-up before that scoring begins (a room's first page loads come first)"),
    Setting(TOKEN_ENV, "(unset)", "room mode: the presenter's token (`vae-explorer room` sets it)"),
    Setting(AUDIENCE_URL_ENV, "(unset)", "room mode: the link students open (`vae-explorer room` sets it)"),
    Setting(TRAINING_ENV, "on", "off: this server never trains (a cluster's audience replicas; docs/kubernetes.md)"),
    Setting(ROOM_DATA_ENV, "./room-data", "the room's data folder: the class map's database and the shared "
            "computations' results (never inside checkpoints/)"),
    Setting(CLASSMAP_URL_ENV, "sqlite:///<room data>/classmap.sqlite3",
            "where the class map's drawings live: `sqlite:///path` or `redis://host:port/db`"),
    Setting(CLASSMAP_INTERVAL_ENV, "5", "seconds a student waits between two drawings sent to the class map"),
    Setting(CLASSMAP_PER_STUDENT_ENV, "20", "drawings one student may send to the class map"),
    Setting(CLASSMAP_PER_ROOM_ENV, "2000", "drawings the whole room may send to the class map"),
    Setting(CLASSMAP_HOLD_ENV, "(the Anomalies page's threshold)",
            "corrected score (nats) above which a sent drawing waits for the presenter's approval"),
    Setting(FIRST_DRAW_ENV, f"{DEFAULT_FIRST_DRAW_SECONDS:g}",
            "seconds a first view (latent map, decoder grid) waits for the browser to draw its picture before the rest"),
)


def _value(name: str) -> str:
    """The variable's value, "" when unset (an empty value means the default everywhere)."""
    return os.environ.get(name, "")


def data_dir() -> Path:
    """Where MNIST is read from (and downloaded to): $VAE_DATA_DIR, else ./data."""
    return Path(_value(DATA_ENV) or DEFAULT_DATA_DIR)


def cache_dir() -> Path:
    """Where derived files the engine can rebuild are kept: $VAE_CACHE_DIR, else ~/.cache/vae-latent-explorer."""
    return Path(_value(CACHE_ENV) or Path.home() / ".cache" / "vae-latent-explorer")


def max_train_minutes() -> float:
    """The wall-clock budget of one training, VAE_MAX_TRAIN_MINUTES (default 20); ConfigError if it is set to
    anything but a number > 0."""
    raw = _value(BUDGET_ENV).strip()
    if not raw:
        return DEFAULT_BUDGET_MINUTES
    try:
        minutes = float(raw)
    except ValueError:
        minutes = math.nan
    if not (math.isfinite(minutes) and minutes > 0):
        raise ConfigError([f"{BUDGET_ENV}: must be a number of minutes > 0, e.g. 60 (got {raw!r})"])
    return minutes


def checkpoint_dir() -> Path:
    """The folder for models trained in the app: $VAE_CHECKPOINT_DIR, else the shipped checkpoints/."""
    return Path(_value(CHECKPOINT_DIR_ENV) or SHIPPED_DIR)


def room_data_dir() -> Path:
    """The room's data folder (the class map's database, the shared computations' results): $VAE_ROOM_DATA_DIR, else
    ./room-data."""
    return Path(_value(ROOM_DATA_ENV) or DEFAULT_ROOM_DATA_DIR)


def max_models() -> int:
    """App-trained models the checkpoint folder may hold: $VAE_MAX_MODELS (at least 1), else 20; a value that is
    not a whole number counts as unset."""
    try:
        return max(1, int(_value(MAX_MODELS_ENV) or DEFAULT_MAX_MODELS))
    except ValueError:
        return DEFAULT_MAX_MODELS


def warm_anomaly_scores() -> bool:
    """Whether the app scores the default model's test digits at start-up: yes unless VAE_WARM_ANOMALY_SCORES=0."""
    return _value(WARM_ANOMALY_ENV) != "0"


def _seconds(name: str, default: float) -> float:
    """A duration setting: its value, at least 0; `default` when unset or not a finite number."""
    try:
        seconds = float(_value(name) or default)
    except ValueError:
        return default
    return max(0.0, seconds) if math.isfinite(seconds) else default


def warm_anomaly_delay() -> float:
    """Seconds after start-up before the app scores the default model's test digits (VAE_WARM_ANOMALY_DELAY_S, at
    least 0; DEFAULT_WARM_ANOMALY_DELAY when unset or not a number)."""
    return _seconds(WARM_ANOMALY_DELAY_ENV, DEFAULT_WARM_ANOMALY_DELAY)


def first_draw_seconds() -> float:
    """Seconds a session's first view waits for the browser's word that its picture is drawn (VAE_FIRST_DRAW_SECONDS,
    at least 0; DEFAULT_FIRST_DRAW_SECONDS when unset or not a number)."""
    return _seconds(FIRST_DRAW_ENV, DEFAULT_FIRST_DRAW_SECONDS)


def presenter_token() -> str:
    """The room's presenter token, "" outside room mode."""
    return _value(TOKEN_ENV)


def audience_url() -> str:
    """The link the room opens, "" when it is not set."""
    return _value(AUDIENCE_URL_ENV)


def training_enabled() -> bool:
    """Whether this server may train: yes unless VAE_TRAINING is off (or 0, false, no)."""
    return _value(TRAINING_ENV).strip().lower() not in ("off", "0", "false", "no")


def environment() -> Mapping[str, str]:
    """The process environment, for modules that parse a group of settings at once (explorer/classmap)."""
    return os.environ


def settings_table() -> str:
    """SETTINGS as the README's Markdown table."""
    rows = [f"| `{s.name}` | {s.default} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(["| variable | default | meaning |", "| --- | --- | --- |", *rows])
