"""`vae-explorer room` and what a browser may see: the room command serves the network with a fresh token and prints
both links, with one Streamlit process or several behind Caddy, and its server looks nothing up on the internet as it
starts; single-user mode listens on 127.0.0.1 only; messages in the browser carry no absolute paths.
(tests/test_room_workers.py starts a room of workers for real.)"""
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from explorer.page.public_text import public
from explorer.room import launcher as room
from explorer.room.proxy import COOKIE, PRESENTER_COOKIE, caddy_binary
from vae_core.settings import AUDIENCE_URL_ENV, TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]


def test_the_room_command_makes_a_token_serves_the_network_and_prints_both_links():
    plan = room.plan(["--workers", "1", "--port", "8600", "--host", "192.0.2.7"], environ={})
    (command,), env, lines = plan.commands, plan.env, plan.lines
    token = env[TOKEN_ENV]
    assert len(token) >= 16 and token != room.plan(["--workers", "1", "--host", "192.0.2.7"], environ={}).env[TOKEN_ENV]
    assert not plan.proxied  # one worker: Streamlit serves the room's port itself, as before workers existed
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
    (command,) = room.plan(["--workers", "1", "--port", "8600", "--host", "192.0.2.7"], environ={}).commands
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


def test_a_room_of_workers_runs_one_streamlit_per_worker_on_loopback_behind_caddy_on_the_rooms_port():
    plan = room.plan(["--workers", "3", "--port", "8600", "--host", "192.0.2.7", "--presenter-worker"], environ={})
    # three for the audience and one for the presenter
    assert plan.proxied and len(plan.commands) == 4 and len(set(plan.worker_ports)) == 4 and 8600 not in plan.worker_ports
    for command, port in zip(plan.commands, plan.worker_ports, strict=True):
        assert command[command.index("--server.address") + 1] == "127.0.0.1"
        assert command[command.index("--server.port") + 1] == str(port)
        assert command[command.index("--browser.serverAddress") + 1] == "192.0.2.7"
    config = plan.caddyfile()
    assert "http://:8600 {" in config and "bind 0.0.0.0" in config  # every interface by default
    assert f"lb_policy cookie {COOKIE} {plan.proxy_secret}" in config  # sticky by cookie, never by client address
    assert " ".join(f"127.0.0.1:{p}" for p in plan.audience_ports) in config and "health_uri /_stcore/health" in config
    assert plan.env[AUDIENCE_URL_ENV] == "http://192.0.2.7:8600/"
    assert len(plan.env[room.COOKIE_SECRET_ENV]) >= 32  # one secret, in the one environment every worker gets
    assert any("3 Streamlit workers behind Caddy" in line for line in plan.lines)


def test_the_default_is_one_worker_per_core(monkeypatch):
    monkeypatch.setattr(room.os, "cpu_count", lambda: 5)
    assert len(room.plan(["--host", "192.0.2.7"], environ={}).audience_ports) == 5


def test_the_presenters_link_and_route_cookie_lead_to_a_worker_of_its_own_and_everything_else_to_the_audiences():
    plan = room.plan(["--workers", "2", "--port", "8600", "--host", "192.0.2.7", "--presenter-worker"], environ={})
    token, route, config = plan.env[room.TOKEN_ENV], plan.route_id, plan.caddyfile()
    presenter = f"127.0.0.1:{plan.presenter_port}"
    audience = " ".join(f"127.0.0.1:{p}" for p in plan.audience_ports)
    assert plan.presenter_port in plan.worker_ports and len(plan.audience_ports) == 2
    assert "presenter's worker" in plan.worker_names() and len(set(plan.worker_names())) == 3
    assert len(route) >= 16 and route != token and route != plan.proxy_secret
    # the handle blocks: Streamlit's metrics answered by the proxy, then the three routes, first match wins, in order
    metrics, link, browser, everyone = config.split("\thandle")[1:]
    assert metrics.startswith(" /_stcore/metrics* {") and "respond 404" in metrics and "reverse_proxy" not in metrics
    assert link.startswith(" @presenter_link {") and f"@presenter_link query presenter={token}\n" in config
    assert f'header_down +Set-Cookie "{PRESENTER_COOKIE}={route}; Path=/; HttpOnly; SameSite=Lax"' in link
    assert browser.startswith(" @presenter_browser {")
    assert f"@presenter_browser header Cookie *{PRESENTER_COOKIE}={route}*\n" in config
    for block in (link, browser):  # the presenter's worker first, the audience's as its fallback
        assert f"reverse_proxy {presenter} {audience} {{" in block and "lb_policy first" in block
        assert "health_uri /_stcore/health" in block and "header_down X-Worker" in block
    assert everyone.startswith(" {") and f"reverse_proxy {audience} {{" in everyone and presenter not in everyone
    assert f"lb_policy cookie {COOKIE} {plan.proxy_secret}" in everyone
    assert "Set-Cookie" not in browser + everyone
    assert any("and one for the presenter" in line for line in plan.lines)
    audience_line = next(line for line in plan.lines if "Audience" in line)
    assert token not in audience_line and route not in "\n".join(plan.lines)


def test_by_default_and_in_a_one_worker_room_there_is_no_presenter_route():
    off = room.plan(["--workers", "2", "--host", "192.0.2.7"], environ={})
    assert off.presenter_port is None and len(off.commands) == 2 == len(off.audience_ports)
    config = off.caddyfile()
    assert "presenter" not in config and PRESENTER_COOKIE not in config and off.env[room.TOKEN_ENV] not in config
    assert config.count("reverse_proxy 127.0.0.1:") == 1 and f"lb_policy cookie {COOKIE}" in config
    one = room.plan(["--workers", "1", "--host", "192.0.2.7"], environ={})
    assert one.presenter_port is None and len(one.commands) == 1 and not one.proxied


def test_bind_chooses_the_listening_address_and_a_loopback_room_prints_its_own_address():
    one = room.plan(["--workers", "1", "--bind", "127.0.0.1", "--port", "8601"], environ={})
    assert one.commands[0][one.commands[0].index("--server.address") + 1] == "127.0.0.1"
    assert one.env[AUDIENCE_URL_ENV] == "http://127.0.0.1:8601/"
    two = room.plan(["--workers", "2", "--bind", "127.0.0.1", "--port", "8601"], environ={})
    assert "bind 127.0.0.1" in two.caddyfile() and two.env[AUDIENCE_URL_ENV] == "http://127.0.0.1:8601/"


@pytest.mark.parametrize("presenter", [["--presenter-worker"], []], ids=["presenter's worker", "none"])
def test_the_rooms_caddyfile_is_one_caddy_accepts(tmp_path, presenter):
    plan = room.plan(["--workers", "2", "--bind", "127.0.0.1", "--port", "8602", *presenter], environ={})
    config = tmp_path / "Caddyfile"
    config.write_text(plan.caddyfile())
    done = subprocess.run([caddy_binary(), "validate", "--config", str(config), "--adapter", "caddyfile"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_kept_cookie_secret_is_used_and_a_short_token_is_refused(capsys):
    assert room.plan(["--workers", "2"], environ={room.COOKIE_SECRET_ENV: "s" * 40}).env[room.COOKIE_SECRET_ENV] == "s" * 40
    assert room.plan(["--workers", "1", "--token", "t" * 16], environ={}).env[TOKEN_ENV] == "t" * 16
    with pytest.raises(SystemExit):
        room.plan(["--token", "short-token"], environ={})
    assert "at least 16 characters" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        room.plan(["--workers", "0"], environ={})
    with pytest.raises(SystemExit):  # it goes into the link and the proxy's configuration as it is
        room.plan(["--token", 'a-long-enough-token" }'], environ={})
    assert "letters, digits" in capsys.readouterr().err


def test_a_replica_with_training_off_refuses_every_training(monkeypatch, tmp_path):
    import vae_core as vc
    from explorer.training.form import TrainingRequest
    from explorer.training.job import TRAINING_ENV, TrainingDisabled, TrainingJob, training_enabled

    assert training_enabled()
    monkeypatch.setenv(TRAINING_ENV, "off")
    job = TrainingJob()
    request = TrainingRequest("x", vc.ModelConfig(hidden=(8,)), vc.TrainConfig(epochs=1, train_subset=1000))
    with pytest.raises(TrainingDisabled):
        job.start(request, tmp_path)
    assert not job.snapshot().active and not list(tmp_path.iterdir())
