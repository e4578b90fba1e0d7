"""Messages shown in the browser name files, never the machine's absolute paths: on a projector, and to every
student's device in room mode, the lecturer's home folder and layout are nobody's business. The terminal log keeps
the full details."""
from __future__ import annotations

import re

from vae_core.settings import PROJECT_ROOT

_ABSOLUTE = re.compile(r"(?<![\w.~:/])/(?:[^\s/'\"`:,;()\[\]]+/)*([^\s/'\"`:,;()\[\]]*)")


def public(message: str) -> str:
    """`message` with paths inside the project shown relative to it and every other absolute path as its last
    component (…/name)."""
    text = str(message).replace(f"{PROJECT_ROOT}/", "")
    return _ABSOLUTE.sub(lambda m: f"…/{m.group(1)}" if m.group(1) else "…/", text)
