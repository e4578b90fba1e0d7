"""Which checkpoint a run of the app shows: the one picked in the sidebar, or the shipped default when none was picked
(a page run on its own, as in AppTest) or the picked one cannot be loaded.

Resolved once per script run -- by the sidebar's pick, before the page runs, or by `page_model()` when there is no
sidebar -- into one `ModelKey`, kept in the session; pages and the cache functions take that key."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import streamlit as st

import vae_core as vc
from explorer import cache
from explorer.model.files import DEFAULT_CHECKPOINT

CHOSEN = "model_key"  # session-state key: the ModelKey this session's pages use


class ModelKey(NamedTuple):
    """A checkpoint as the caches know it: a file rewritten in place gets a new mtime, hence a new key (reloaded)."""
    path: str
    mtime: float

    @classmethod
    def of(cls, path: str | Path) -> ModelKey:
        try:
            return cls(str(path), Path(path).stat().st_mtime)
        except OSError:  # gone: loading it reports a CheckpointError (reason "not_found")
            return cls(str(path), -1.0)


def load_problem(key: ModelKey) -> str | None:
    """None if the checkpoint loads (cached per key), else why it does not."""
    try:
        cache.load_model(key)
    except vc.CheckpointError as e:
        return str(e)
    except OSError as e:
        return f"{Path(key.path).name} cannot be read: {e}"
    return None


def resolve(picked: str | None) -> tuple[ModelKey, str | None]:
    """(the key to use, why the picked checkpoint was replaced by the default -- or None)."""
    if picked and Path(picked) != DEFAULT_CHECKPOINT:
        key = ModelKey.of(picked)
        problem = load_problem(key)
        if problem is None:
            return key, None
        return ModelKey.of(DEFAULT_CHECKPOINT), (f"Could not load {Path(picked).name}: {problem}. "
                                                 "Showing the default model instead.")
    return ModelKey.of(DEFAULT_CHECKPOINT), None


def choose(picked: str | None) -> str | None:
    """Resolve the user's pick and keep the key for this run's page; returns the fallback message, if any."""
    st.session_state[CHOSEN], problem = resolve(picked)
    return problem


def chosen() -> ModelKey:
    """The key the sidebar chose in this session, or the default's (a page run without the sidebar)."""
    return st.session_state.get(CHOSEN) or resolve(None)[0]
