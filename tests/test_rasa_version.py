"""Every change to Rasa's own behaviour stops the server at start, naming itself, under a Rasa
release other than the one it was written for."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from channels import rasa_version

ROOT = Path(__file__).resolve().parent.parent
PATCHES = ["channels.webchat", "channels.teams", "channels.rest", "stores.unavailable", "stores.lock"]


def test_the_installed_rasa_is_the_one_the_changes_were_written_for():
    rasa_version.require_rasa("this test")


def test_another_rasa_release_stops_with_the_changes_name(monkeypatch):
    monkeypatch.setattr(rasa_version.metadata, "version", lambda name: "3.7.0")
    with pytest.raises(rasa_version.RasaVersionError, match="The frobnicator.*3.6.21.*3.7.0 is installed"):
        rasa_version.require_rasa("The frobnicator")


@pytest.mark.parametrize("module", PATCHES)
def test_each_module_that_changes_rasa_checks_its_release(module, monkeypatch):
    importlib.import_module(module)
    monkeypatch.setattr(rasa_version, "RASA_VERSION", "0.0.0")
    with pytest.raises(rasa_version.RasaVersionError, match=module.replace(".", "/")):
        importlib.reload(sys.modules[module])


@pytest.mark.slow  # starts a Python process that imports Rasa (about 5 s)
def test_the_rasa_server_script_checks_its_release():
    under_another_rasa = (
        "from importlib import metadata; import runpy; metadata.version = lambda name: '0.0.0'; "
        "runpy.run_path('scripts/rasa_server.py')"
    )
    result = subprocess.run(
        [sys.executable, "-c", under_another_rasa], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "RasaVersionError: The action-result schema check (scripts/rasa_server.py" in result.stderr
