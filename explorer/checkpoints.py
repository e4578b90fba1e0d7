"""Which checkpoints exist, and which one is the default."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKPOINT_DIR = ROOT / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "default.pt"


def list_checkpoints(directory: Path = CHECKPOINT_DIR) -> list[Path]:
    """The shipped default first, then every other *.pt, newest first."""
    others = sorted((p for p in directory.glob("*.pt") if p.resolve() != DEFAULT_CHECKPOINT.resolve()),
                    key=lambda p: p.stat().st_mtime, reverse=True)
    return ([DEFAULT_CHECKPOINT] if DEFAULT_CHECKPOINT.exists() else []) + others
