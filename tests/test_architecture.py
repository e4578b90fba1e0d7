"""The import structure written down in pyproject.toml's [tool.importlinter] holds: pages above the explorer above the
engine, no Streamlit in the engine or the drawing code, no cycles inside a package. The scripts import-linter cannot
analyse as a package (navigation.py, app.py, and pages/ as scripts) are checked here with `ast`."""
import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("explorer", "vae_core")
SCRIPTS = sorted([ROOT / "app.py", ROOT / "navigation.py", *(ROOT / "pages").glob("*.py")])
LINT = "from importlinter.cli import lint_imports; raise SystemExit(lint_imports(no_cache=True, no_logo=True))"


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    """`lint-imports` with the project's own pyproject.toml, run in `project` and importing from it."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([sys.executable, "-c", LINT], cwd=project, env=env, capture_output=True, text=True,
                          timeout=240)


def imported_modules(path: Path) -> set[str]:
    """The absolute modules a file imports (relative imports, inside a package, are left out)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_import_contracts_are_kept():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "3 kept, 0 broken" in run.stdout


def test_a_broken_contract_fails_the_check(tmp_path):
    """A copy of the project where the engine imports Streamlit and the explorer, and two engine modules import each
    other: each of the three contracts reports it."""
    for name in (*PACKAGES, "pages"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    limits = tmp_path / "vae_core" / "limits.py"
    limits.write_text(limits.read_text() + "\nimport streamlit\nfrom explorer import cache\nfrom . import model\n")
    run = lint_imports(tmp_path)
    assert run.returncode == 1, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 kept, 3 broken" in run.stdout
    assert "vae_core.limits -> streamlit" in run.stdout and "vae_core.limits -> explorer.cache" in run.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.relative_to(ROOT).as_posix() for p in SCRIPTS])
def test_a_script_imports_only_the_explorer_the_engine_and_installed_modules(script):
    for name in imported_modules(script):
        top = name.split(".")[0]
        assert top not in ("pages", "navigation", "app"), f"{script.name} imports {name}: scripts import no script"
        assert top in PACKAGES or top in sys.stdlib_module_names or importlib.util.find_spec(top) is not None, name


def test_no_module_imports_a_script():
    modules = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")] + SCRIPTS
    for path in modules:
        tops = {name.split(".")[0] for name in imported_modules(path)}
        assert not tops & {"pages", "navigation", "app"}, f"{path.relative_to(ROOT)} imports a script"


def test_pages_stop_through_stop_page_so_the_sidebar_drawn_after_them_stays():
    """st.stop() would end the run before navigation.py draws the sidebar (explorer/page/page_run.py)."""
    page_run = ROOT / "explorer" / "page" / "page_run.py"
    callers = [path.relative_to(ROOT) for path in [*SCRIPTS, *(ROOT / "explorer").rglob("*.py")]
               if path != page_run and "st.stop(" in path.read_text()]
    assert callers == []


def test_a_fragment_a_visitor_reruns_is_paced():
    """A plain st.fragment reruns outside an audience session's CPU budget (explorer/room/session_pace.py), a poll's
    (run_every) too: a client asks for a poll's rerun whenever it likes."""
    pace = ROOT / "explorer" / "room" / "session_pace.py"
    plain = [f"{path.relative_to(ROOT)}:{n}" for path in [*SCRIPTS, *(ROOT / "explorer").rglob("*.py")] if path != pace
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if "st.fragment" in line]
    assert plain == []
