"""Each setting has one home: the ports, the offline/telemetry switches and the cluster's settings
in defaults.env, read by scripts/run.sh and scripts/cluster.sh, the Makefile, the tests and the
bench alike."""

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
        "CLUSTER_RASA_SERVERS",
        "CLUSTER_ACTION_SERVERS",
        "TRACKER_DB_HOST",
        "TRACKER_DB_PORT",
        "TRACKER_DB_NAME",
        "TRACKER_DB_USER",
        "LOCK_STORE_HOST",
        "LOCK_STORE_PORT",
        "SQL_POOL_SIZE",
        "SQL_MAX_OVERFLOW",
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


def test_the_cluster_endpoints_read_their_stores_from_defaults_env(monkeypatch):
    for name, value in environment_defaults().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ACTION_HOST", "127.0.0.1")
    monkeypatch.setenv("TRACKER_DB_PASSWORD", "secret")
    endpoints = str(PROJECT_ROOT / "deploy" / "endpoints.yml")
    tracker = read_endpoint_config(endpoints, "tracker_store")
    assert tracker.type == "stores.tracker.StrictSQLTrackerStore" and tracker.url == "127.0.0.1"
    assert tracker.kwargs == {
        "dialect": "postgresql",
        "port": "5433",
        "db": "assistant",
        "username": "assistant",
        "password": "secret",
    }
    lock = read_endpoint_config(endpoints, "lock_store")
    assert lock.type == "stores.lock.AtomicRedisLockStore" and lock.kwargs["port"] == "6380"
    assert read_endpoint_config(endpoints, "action_endpoint").url == "http://127.0.0.1:5055/webhook"
