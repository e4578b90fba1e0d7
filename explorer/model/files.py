"""Which model files exist, which one is the shipped default, and where models trained in the app are written.

(The file format itself is vae_core.checkpoint; this module only knows folders and names.)"""
from __future__ import annotations

import functools
import os
import re
import stat
from pathlib import Path

from vae_core.settings import DEFAULT_CHECKPOINT, SHIPPED_DIR, checkpoint_dir

# the models that ship beside the default, to compare it with (a beta = 4 VAE and a convolutional one)
COMPARISON_CHECKPOINTS = (SHIPPED_DIR / "beta4.pt", SHIPPED_DIR / "conv.pt")

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RESERVED_NAMES = {"default", *(p.stem for p in COMPARISON_CHECKPOINTS)}


def _regular_mtime(path: Path) -> float | None:
    """The file's mtime if it is a regular file (not a symlink, dangling link or directory) that can be stat'ed."""
    try:
        st = path.lstat()
    except OSError:
        return None
    return st.st_mtime if stat.S_ISREG(st.st_mode) else None


def shipped_checkpoints() -> list[Path]:
    """The shipped models present in this clone, default first (read at call time: tests swap the default)."""
    return [p for p in (DEFAULT_CHECKPOINT, *COMPARISON_CHECKPOINTS) if p.is_file()]


@functools.lru_cache(maxsize=1024)
def _resolved(path: str) -> Path:
    """The path with its links followed, once per process and name: the picker asks it of every model at every
    page run, and each resolution is a system call per folder of the path."""
    return Path(path).resolve()


def is_shipped(path: str | Path) -> bool:
    resolved = _resolved(str(path))
    return any(resolved == _resolved(str(p)) for p in (DEFAULT_CHECKPOINT, *COMPARISON_CHECKPOINTS))


def list_checkpoints(directory: Path | None = None) -> list[Path]:
    """The shipped models first (default, beta4, conv), then every other regular *.pt file in the checkpoint folder,
    newest first.

    Symlinks (dangling or not), directories and files that vanish or cannot be stat'ed are skipped: one odd entry
    in the folder must not break the picker on every page."""
    directory = checkpoint_dir() if directory is None else Path(directory)
    try:
        entries = list(directory.glob("*.pt")) if directory.is_dir() else []
    except OSError:
        entries = []
    dated = [(mtime, p) for p in entries if not is_shipped(p) and (mtime := _regular_mtime(p)) is not None]
    others = [p for _, p in sorted(dated, key=lambda t: t[0], reverse=True)]
    return shipped_checkpoints() + others


def trained_models(directory: Path | None = None) -> list[Path]:
    """The models trained in the app: every listed checkpoint but the shipped ones."""
    return [p for p in list_checkpoints(directory) if not is_shipped(p)]


def delete_model(path: str | Path, directory: Path | None = None) -> None:
    """Delete a trained model; refuses the shipped models and anything that is not a listed model file."""
    path = Path(path)
    if is_shipped(path):
        raise PermissionError(f"the shipped model {path.stem!r} cannot be deleted")
    if path not in trained_models(directory):
        raise FileNotFoundError(f"{path.name} is not a model in the checkpoint folder")
    path.unlink()


def name_problem(name: str, directory: Path | None = None) -> str | None:
    """Why `name` cannot be used for a new checkpoint file, or None if it can."""
    directory = checkpoint_dir() if directory is None else Path(directory)
    if not NAME_PATTERN.fullmatch(name or ""):
        return ("Name: use 1–64 letters, digits, '-' or '_', starting with a letter or digit "
                f"(got {name!r}); it becomes the file name <name>.pt.")
    if name.lower() in RESERVED_NAMES:
        return f"Name: {name!r} is the shipped model and cannot be overwritten; choose another name."
    if os.path.lexists(directory / f"{name}.pt"):
        return f"Name: a model called {name!r} already exists; choose another name (nothing is overwritten)."
    return None
