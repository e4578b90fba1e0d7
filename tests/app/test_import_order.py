"""The import-order workaround of a fresh server's first page (docs/performance.md: "Speed workarounds"), guarded:
every page runs its deep-link guard before it imports torch. Each check runs in a fresh interpreter, where torch is
not imported yet."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))

# Runs a page as Streamlit's legacy pages/ mode would (the flag set), stopping at the guard's st.rerun().
GUARD_PROBE = """
import runpy, sys, json
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

class Rerun(Exception):
    pass

def rerun(*args, **kwargs):
    raise Rerun

st.rerun = rerun
PagesManager.uses_pages_directory = True
try:
    runpy.run_path(sys.argv[1], run_name="__main__")
    outcome = "ran to the end"
except Rerun:
    outcome = "reran"
except Exception as e:
    outcome = f"failed: {type(e).__name__}: {e}"
print(json.dumps({"outcome": outcome, "torch": "torch" in sys.modules}))
"""

def probe(code: str, *args: str) -> dict:
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_a_deep_linked_page_reruns_through_navigation_before_importing_torch(page):
    result = probe(GUARD_PROBE, str(page))
    assert result["outcome"] == "reran", f"{page.name}: the deep-link guard did not rerun ({result['outcome']})"
    assert not result["torch"], f"{page.name} imports torch before its ensure_navigation() guard"
