"""`vae-explorer room` and what a browser may see: the room command serves the network with a fresh token and prints
both links, and its server looks nothing up on the internet as it starts; single-user mode listens on 127.0.0.1 only;
messages in the browser carry no absolute paths."""
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from explorer.page.public_text import public
from explorer.room import launcher as room
from explorer.room.roles import AUDIENCE_URL_ENV, TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]


def test_the_room_command_makes_a_token_serves_the_network_and_prints_both_links():
    command, env, lines = room.plan(["--port", "8600", "--host", "192.0.2.7"], environ={})
    token = env[TOKEN_ENV]
    assert len(token) >= 16 and token != room.plan(["--host", "192.0.2.7"], environ={})[1][TOKEN_ENV]
    assert command[command.index("--server.address") + 1] == "0.0.0.0"
    assert command[command.index("--server.port") + 1] == "8600"
    # a set browser.serverAddress keeps Streamlit from looking the machine's public address up on the internet
    assert command[command.index("--browser.serverAddress") + 1] == "192.0.2.7"
    assert env[AUDIENCE_URL_ENV] == "http://192.0.2.7:8600/"
    text = "\n".join(lines)
    assert f"http://localhost:8600/?presenter={token}" in text and "Audience" in text
    audience_line = next(line for line in lines if "Audience" in line)
    assert token not in audience_line


# Streamlit's start-up banner (what `streamlit run` prints once it listens) under the given command-line options, with
# its two address look-ups replaced by recorders: prints which of them it called.
BANNER = """
import json, sys
from streamlit import net_util
from streamlit.web import bootstrap
called = []
net_util.get_external_ip = lambda: called.append("public address") or None
net_util.get_internal_ip = lambda: called.append("network address") or None
bootstrap.load_config_options(flag_options=json.loads(sys.argv[1]))
bootstrap._print_url(False)
print(json.dumps(called))
"""


def lookups_at_start(command: list[str]) -> list[str]:
    """Which address look-ups Streamlit's start makes under the options of a `streamlit run app.py ...` command (run
    in a child, from the repository, so .streamlit/config.toml counts as it does for the server)."""
    options = command[command.index("run") + 2:]
    flags = {name.removeprefix("--"): value for name, value in zip(options[::2], options[1::2], strict=True)}
    done = subprocess.run([sys.executable, "-c", BANNER, json.dumps(flags)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_room_commands_server_looks_nothing_up_on_the_internet_as_it_starts():
    command, _, _ = room.plan(["--port", "8600", "--host", "192.0.2.7"], environ={})
    assert lookups_at_start(command) == []
    # what the option prevents: serving every interface without it, Streamlit looks its public address up
    without = command[:command.index("--browser.serverAddress")] + command[command.index("--browser.serverAddress") + 2:]
    assert "public address" in lookups_at_start(without)


def test_single_user_mode_listens_on_loopback_and_shows_no_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] in ("type", "none")


def test_browser_messages_name_files_not_absolute_paths():
    assert public(f"{ROOT}/checkpoints/x.pt is truncated") == "checkpoints/x.pt is truncated"
    assert public("no checkpoint file at /home/lecturer/secret/broken.pt") == "no checkpoint file at …/broken.pt"
    assert public("open http://192.0.2.7:8501/ and 3/4 of a/b") == "open http://192.0.2.7:8501/ and 3/4 of a/b"
