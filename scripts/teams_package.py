"""Write the Microsoft Teams app package that an admin uploads in the Teams admin centre: a zip
of manifest.json (teams/manifest.template.json with the settings below filled in) and the two
icons it names (teams/color.png, 192x192; teams/outline.png, 32x32, white on transparent).

    TEAMS_APP_ID=<the bot's Microsoft app id> .venv/bin/python scripts/teams_package.py [out.zip]

The default output is dist/teams-app.zip (`make teams-package`).
"""

from __future__ import annotations

import json
import os
import re
import string
import sys
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "teams" / "manifest.template.json"
ICON_SIZES = {"color": (192, 192), "outline": (32, 32)}
GUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
# The publisher Teams shows for the app; a council sets its own.
DEFAULTS = {
    "TEAMS_DEVELOPER_NAME": "Your council",
    "TEAMS_WEBSITE_URL": "https://www.gov.uk/find-local-council",
    "TEAMS_PRIVACY_URL": "https://www.gov.uk/help/privacy-notice",
    "TEAMS_TERMS_URL": "https://www.gov.uk/help/terms-conditions",
}


class PackageError(Exception):
    pass


def settings(environ: dict[str, str]) -> dict[str, str]:
    app_id = environ.get("TEAMS_APP_ID", "").strip()
    if not app_id:
        raise PackageError(
            "TEAMS_APP_ID is not set: set it to the bot's Microsoft app id (Azure portal, the "
            "bot resource, Configuration) and run again."
        )
    if not GUID.fullmatch(app_id):
        raise PackageError(f"TEAMS_APP_ID is {app_id!r}, which is not an app id (a GUID).")
    values = {"TEAMS_APP_ID": app_id}
    for name, default in DEFAULTS.items():
        values[name] = environ.get(name, "").strip() or default
    for name in ("TEAMS_WEBSITE_URL", "TEAMS_PRIVACY_URL", "TEAMS_TERMS_URL"):
        if not values[name].startswith("https://"):
            raise PackageError(f"{name} must be an https:// address, not {values[name]!r}.")
    if len(values["TEAMS_DEVELOPER_NAME"]) > 32:
        raise PackageError("TEAMS_DEVELOPER_NAME must be at most 32 characters long.")
    return values


def fill(node, values: dict[str, str]):
    """The template with each ${NAME} in its strings replaced by that setting."""
    if isinstance(node, str):
        try:
            return string.Template(node).substitute(values)
        except (KeyError, ValueError) as error:
            raise PackageError(f"{TEMPLATE.name}: {node!r} names no known setting ({error})") from None
    if isinstance(node, list):
        return [fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: fill(value, values) for key, value in node.items()}
    return node


def check_icon(path: Path, kind: str) -> None:
    try:
        with Image.open(path) as image:
            size, mode, kind_of_file = image.size, image.mode, image.format
    except OSError as error:
        raise PackageError(f"the {kind} icon {path} cannot be read: {error}") from None
    width, height = ICON_SIZES[kind]
    if kind_of_file != "PNG" or size != (width, height):
        raise PackageError(
            f"the {kind} icon {path} must be a {width}x{height} PNG; it is a "
            f"{size[0]}x{size[1]} {kind_of_file}."
        )
    if kind == "outline" and mode != "RGBA":
        raise PackageError(f"the outline icon {path} must be white on a transparent background (RGBA).")


def build(output: Path, environ: dict[str, str]) -> Path:
    manifest = fill(json.loads(TEMPLATE.read_text(encoding="utf-8")), settings(environ))
    icons = {kind: TEMPLATE.parent / manifest["icons"][kind] for kind in ICON_SIZES}
    for kind, path in icons.items():
        check_icon(path, kind)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for path in icons.values():
            package.write(path, path.name)
    return output


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else ROOT / "dist" / "teams-app.zip"
    try:
        build(output, dict(os.environ))
    except PackageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {output}: upload it in the Teams admin centre (Teams apps > Manage apps > Upload new app).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
