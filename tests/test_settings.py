"""Each setting has one home: the ports and the offline/telemetry switches in defaults.env, read
by scripts/run.sh, the Makefile, the tests and the bench alike."""

from rasa.utils.endpoints import read_endpoint_config

from bot.config import PROJECT_ROOT, environment_defaults, server_addresses


def test_defaults_env_holds_the_ports_and_the_offline_switches():
    assert set(environment_defaults()) == {
        "RASA_PORT",
        "ACTION_PORT",
        "WEB_PORT",
        "HF_HUB_OFFLINE",
        "RASA_TELEMETRY_ENABLED",
        "TOKENIZERS_PARALLELISM",
    }


def test_the_ports_come_from_the_environment_else_from_defaults_env(monkeypatch):
    defaults = environment_defaults()
    monkeypatch.delenv("RASA_PORT", raising=False)
    monkeypatch.setenv("ACTION_PORT", "6123")
    monkeypatch.setenv("WEB_PORT", "")
    addresses = server_addresses()
    assert addresses.ports == (int(defaults["RASA_PORT"]), 6123, int(defaults["WEB_PORT"]))
    assert addresses.webhook_url == f"http://127.0.0.1:{defaults['RASA_PORT']}/webhooks/rest/webhook"
    assert addresses.action_url == "http://127.0.0.1:6123"


def test_the_action_server_url_in_endpoints_yml_follows_action_port(monkeypatch):
    monkeypatch.setenv("ACTION_PORT", "6123")
    endpoint = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "action_endpoint")
    assert endpoint.url == "http://127.0.0.1:6123/webhook"
