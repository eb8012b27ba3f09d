import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

import chromium
import pytest
from playwright.sync_api import sync_playwright

from bench.load import in_use, scratch_endpoints
from bot import index, search
from bot.config import apply_environment_defaults, server_addresses, settings
from fake_botframework import TENANT_ID, FakeBotFramework

ROOT = Path(__file__).resolve().parent.parent

apply_environment_defaults()  # before any test module loads Rasa or a model

# The servers are stopped with Ctrl-C (SIGINT), as at a terminal. A test run started in the
# background of a non-interactive shell (as some CI runners start jobs) has SIGINT ignored, which
# every process it starts inherits, and bash cannot trap a signal ignored on entry: Ctrl-C would
# then never reach scripts/run.sh. Its default handling is restored for the processes started here.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def encoder():
    """The configured embedding model as it is (not adapted to the corpus), loaded once for the
    whole run, for indexes that tests build themselves."""
    return index.Encoder(settings())


@pytest.fixture(scope="session")
def project_index():
    """The project's own index (built by `make test` before pytest runs, or here if needed),
    with the embedding model it was built with."""
    return index.load()


@pytest.fixture(scope="session")
def searcher(project_index):
    """Hybrid search over the project's index with the project's vocabulary."""
    vocabulary = search.Vocabulary.load(settings().corpus_dir / search.VOCABULARY_FILE)
    return search.Searcher(project_index, vocabulary)


@pytest.fixture(scope="session")
def fake_botframework():
    """Microsoft's Bot Framework services on a free loopback port (tests/fake_botframework.py)."""
    fake = FakeBotFramework().start()
    yield fake
    fake.stop()


# The Rasa HTTP API token the test servers are given (scripts/run.sh reads RASA_API_TOKEN); it
# starts with "-", as a random token may, which must not be taken for a command-line option.
API_TOKEN = "-" + secrets.token_urlsafe(32)


def wait_for_free_ports(ports, timeout=600):
    """Another checkout's test run may hold the fixed ports for a while: wait for it to end."""
    deadline = time.monotonic() + timeout
    while True:
        busy = [port for port in ports if in_use(port)]
        if not busy:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"ports {busy} stayed in use for {timeout} s; stop whatever is using them")
        time.sleep(5)


class Servers:
    """The servers as scripts/run.sh runs them (`make run`), or as another script that starts
    servers does (scripts/cluster.sh). `logs` holds their logs, process ids, feedback database
    and index; `process` is the running script."""

    def __init__(self, env: dict, logs: Path, script: str = "scripts/run.sh", ports=None):
        self.env = env
        self.logs = logs
        self.script = script
        self.ports = ports or server_addresses().ports
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        wait_for_free_ports(self.ports)
        self.process = subprocess.Popen(
            [self.script],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        output = []
        deadline = time.monotonic() + 600
        for line in self.process.stdout:
            output.append(line)
            if "==> ready" in line or time.monotonic() > deadline:
                break
        if self.process.poll() is not None or "==> ready" not in "".join(output):
            self.process.kill()
            logs_text = "".join(p.read_text()[-3000:] for p in self.logs.glob("*.log"))
            pytest.fail("servers did not start:\n" + "".join(output) + logs_text)

    def stop(self) -> None:
        """Ctrl-C, as a member of staff at the terminal would stop them."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                raise

    def pid(self, server: str) -> int:
        """The process id of the "rasa" or the "actions" server ("rasa-1", "postgres", ... in a
        cluster)."""
        return int((self.logs / f"{server}.pid").read_text())


@pytest.fixture(scope="session")
def servers(fake_botframework, tmp_path_factory):
    """The servers, started once by scripts/run.sh as `make run` starts them, with the Teams
    channel configured as a single-tenant bot of the fake Bot Framework, a copy of the project's
    index that tests may damage, and conversations kept apart from the project's own."""
    if not (ROOT / "models" / "current.tar.gz").exists():
        pytest.fail("no trained model: run `make train` (make test does) before this test")
    logs = tmp_path_factory.mktemp("logs")
    index.ensure_built()
    shutil.copytree(settings().index_dir, logs / "index")
    for cache in (index.ADAPTED, index.QUERY_ENCODER):  # so that rebuilding the copy does not
        models = settings().index_dir.parent / cache  # train or export the model again
        if models.is_dir():
            shutil.copytree(models, logs / cache)
    teams = {
        "TEAMS_APP_ID": fake_botframework.app_id,
        "TEAMS_APP_PASSWORD": fake_botframework.app_password,
        "TEAMS_APP_TYPE": "SingleTenant",
        "TEAMS_TENANT_ID": TENANT_ID,
        "TEAMS_OPENID_METADATA_URL": fake_botframework.openid_metadata_url,
        "TEAMS_TOKEN_URL": fake_botframework.token_url,
    }
    env = {
        **os.environ,
        **teams,
        "LOG_DIR": str(logs),
        "RUN_DIR": str(logs),
        "BOT_FEEDBACK_DB": str(logs / "feedback.db"),
        "BOT_INDEX_DIR": str(logs / "index"),
        "RASA_API_TOKEN": API_TOKEN,
        "RASA_ENDPOINTS": str(scratch_endpoints(logs)),
    }
    running = Servers(env, logs)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(servers):
    """Debian's Chromium (tests/chromium.py), driven by Playwright, for a module's pages on the
    running servers."""
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        yield browser
        browser.close()


def pytest_collection_modifyitems(items):
    """Tests that use the running servers (or the cluster) are marked `servers`, those that also
    drive a browser `browser`, and those that build indexes with the embedding model or start
    the cluster `slow` (pyproject.toml; a few more are marked `slow` where they stand), so
    `make check` can leave them out. Tests marked `stops_servers` end the shared servers, so they
    run after all others."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "servers" in fixtures or "cluster" in fixtures:
            item.add_marker(pytest.mark.servers)
        if "cluster" in fixtures:
            item.add_marker(pytest.mark.slow)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "encoder" in fixtures:
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("stops_servers") is not None)
