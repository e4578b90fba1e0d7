"""In room mode, the messages of Streamlit's protocol that only the server's owner should send are ignored, whichever
browser sends them.

Streamlit lets any client send them: `clear_cache` empties every cache of the server for every session (computed
figures, loaded models), `load_git_info` answers with the repository, its branch and its untracked files,
`set_run_on_save` is a developer's switch, and two backend operations write into the app's folder (`install_skills`,
a developer's nudge; Streamlit refuses it headless, which the room is). Installed once, from app.py's lifespan, as a
wrapper around `AppSession.handle_backmsg`: the single place where Streamlit dispatches what a browser sends. Outside
room mode (`VAE_PRESENTER_TOKEN` unset, one user on this machine) every message is handled as before."""
from __future__ import annotations

import functools
import logging

from explorer.room.roles import room_mode

IGNORED = frozenset({"clear_cache", "load_git_info", "set_run_on_save"})
IGNORED_OPERATIONS = frozenset({"install_skills", "dismiss_skills_nudge"})
_LOGGER = logging.getLogger(__name__)


def is_ignored(msg) -> bool:
    """Whether a BackMsg is one that room mode ignores."""
    kind = msg.WhichOneof("type")
    if kind == "backend_operation_request":
        return msg.backend_operation_request.WhichOneof("payload") in IGNORED_OPERATIONS
    return kind in IGNORED


def install() -> None:
    """Wrap AppSession.handle_backmsg once per process (a second call does nothing)."""
    from streamlit.runtime.app_session import AppSession

    handle = AppSession.handle_backmsg
    if getattr(handle, "owner_messages_guard", False):
        return

    @functools.wraps(handle)
    def guarded(session, msg) -> None:
        if room_mode() and is_ignored(msg):
            _LOGGER.warning("room mode: ignored a %r message from session %s", msg.WhichOneof("type"), session.id[:8])
            return
        handle(session, msg)

    guarded.owner_messages_guard = True
    AppSession.handle_backmsg = guarded
