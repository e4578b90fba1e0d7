"""Which checkpoints exist, which one is the default, and where newly trained ones go."""
from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT_DIR = ROOT / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "default.pt"
# Where models trained from the sidebar are written (tests point it to a tmp dir).
CHECKPOINT_DIR_ENV = "VAE_CHECKPOINT_DIR"

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RESERVED_NAMES = {"default"}


def checkpoint_dir() -> Path:
    """The folder for models trained in the app: $VAE_CHECKPOINT_DIR, else the repo's checkpoints/."""
    return Path(os.environ.get(CHECKPOINT_DIR_ENV) or CHECKPOINT_DIR)


def list_checkpoints(directory: Path | None = None) -> list[Path]:
    """The shipped default first, then every other *.pt in the checkpoint folder, newest first."""
    directory = checkpoint_dir() if directory is None else Path(directory)
    default = DEFAULT_CHECKPOINT.resolve()
    others = sorted((p for p in directory.glob("*.pt") if p.resolve() != default),
                    key=lambda p: p.stat().st_mtime, reverse=True) if directory.is_dir() else []
    return ([DEFAULT_CHECKPOINT] if DEFAULT_CHECKPOINT.exists() else []) + others


def name_problem(name: str, directory: Path | None = None) -> str | None:
    """Why `name` cannot be used for a new checkpoint file, or None if it can."""
    directory = checkpoint_dir() if directory is None else Path(directory)
    if not NAME_PATTERN.fullmatch(name or ""):
        return ("Name: use 1–64 letters, digits, '-' or '_', starting with a letter or digit "
                f"(got {name!r}); it becomes the file name <name>.pt.")
    if name.lower() in RESERVED_NAMES:
        return f"Name: {name!r} is the shipped model and cannot be overwritten; choose another name."
    if (directory / f"{name}.pt").exists():
        return f"Name: a model called {name!r} already exists; choose another name (nothing is overwritten)."
    return None
