"""`vae-explorer room` and what a browser may see: the room command serves the network with a fresh token and prints
both links; single-user mode listens on 127.0.0.1 only; messages in the browser carry no absolute paths."""
import tomllib
from pathlib import Path

from explorer.page.public_text import public
from explorer.room import launcher as room
from vae_core.settings import AUDIENCE_URL_ENV, TOKEN_ENV

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


def test_single_user_mode_listens_on_loopback_and_shows_no_error_details():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] in ("type", "none")


def test_browser_messages_name_files_not_absolute_paths():
    assert public(f"{ROOT}/checkpoints/x.pt is truncated") == "checkpoints/x.pt is truncated"
    assert public("no checkpoint file at /home/lecturer/secret/broken.pt") == "no checkpoint file at …/broken.pt"
    assert public("open http://192.0.2.7:8501/ and 3/4 of a/b") == "open http://192.0.2.7:8501/ and 3/4 of a/b"
