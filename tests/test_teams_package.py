"""The Teams app package that `make teams-package` writes for an admin to upload."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def package(tmp_path, **env):
    output = tmp_path / "teams-app.zip"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TEAMS_")}
    result = subprocess.run(
        [sys.executable, "scripts/teams_package.py", str(output)],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
    )
    return result, output


def test_the_package_holds_a_manifest_for_the_bot_and_icons_of_the_sizes_teams_requires(tmp_path):
    result, output = package(
        tmp_path,
        TEAMS_APP_ID=APP_ID,
        TEAMS_DEVELOPER_NAME="Example Council",
        TEAMS_WEBSITE_URL="https://www.example.gov.uk",
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(output) as zipped:
        assert sorted(zipped.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zipped.read("manifest.json"))
        icons = {name: Image.open(zipped.open(name)) for name in ("color.png", "outline.png")}

    assert (
        manifest["$schema"]
        == "https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
    )
    assert manifest["manifestVersion"] == "1.17"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["id"] == APP_ID
    developer = manifest["developer"]
    assert developer["name"] == "Example Council" and developer["websiteUrl"] == "https://www.example.gov.uk"
    assert all(developer[url].startswith("https://") for url in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert 0 < len(manifest["name"]["short"]) <= 30 and 0 < len(manifest["name"]["full"]) <= 100
    assert (
        0 < len(manifest["description"]["short"]) <= 80 and 0 < len(manifest["description"]["full"]) <= 4000
    )
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["accentColor"])
    assert isinstance(manifest["validDomains"], list)

    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    commands = [c for command_list in bot["commandLists"] for c in command_list["commands"]]
    assert {"help", "full section"} <= {c["title"] for c in commands}
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)

    color, outline = icons["color.png"], icons["outline.png"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert color.format == outline.format == "PNG"
    assert color.size == (192, 192) and outline.size == (32, 32)
    assert outline.mode == "RGBA" and outline.getpixel((0, 0))[3] == 0, "transparent background"
    visible = [pixel for pixel in outline.get_flattened_data() if pixel[3] > 0]
    assert visible and all(pixel[:3] == (255, 255, 255) for pixel in visible), "white outline"


def test_without_an_app_id_it_says_what_to_set_and_writes_nothing(tmp_path):
    result, output = package(tmp_path)
    assert result.returncode == 1
    assert "TEAMS_APP_ID is not set" in result.stderr
    assert not output.exists()


def test_a_bad_setting_is_named(tmp_path):
    result, output = package(tmp_path, TEAMS_APP_ID=APP_ID, TEAMS_PRIVACY_URL="http://example.org/privacy")
    assert result.returncode == 1 and "TEAMS_PRIVACY_URL must be an https:// address" in result.stderr
    result, output = package(tmp_path, TEAMS_APP_ID="my-bot")
    assert result.returncode == 1 and "not an app id" in result.stderr
    assert not output.exists()
