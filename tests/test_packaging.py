"""The project installs as a package: pyproject.toml's dependencies are requirements.txt's, with floors that exclude
versions with known holes in safe loading, and a console script starts the app."""
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from explorer.room import launcher

ROOT = Path(__file__).resolve().parent.parent


def requirements_txt() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_pyproject_and_requirements_txt_list_the_same_dependencies():
    assert sorted(pyproject()["project"]["dependencies"]) == sorted(requirements_txt())


def test_floors_exclude_torch_before_2_10_and_streamlit_before_1_67():
    reqs = {r.name: r for r in map(Requirement, pyproject()["project"]["dependencies"])}
    assert not reqs["torch"].specifier.contains("2.9.1") and reqs["torch"].specifier.contains("2.14.1")
    assert not reqs["streamlit"].specifier.contains("1.66.0") and reqs["streamlit"].specifier.contains("1.67.0")


def test_the_console_script_runs_the_app_on_the_loopback_address_only():
    assert pyproject()["project"]["scripts"]["vae-explorer"] == "explorer.room.launcher:main"
    command = launcher.streamlit_command("127.0.0.1", ["--server.port", "8600"])
    assert command[1:5] == ["-m", "streamlit", "run", str(ROOT / "app.py")]
    assert command[command.index("--server.address") + 1] == "127.0.0.1" and command[-2:] == ["--server.port", "8600"]
