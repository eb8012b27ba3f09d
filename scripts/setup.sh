#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned dependencies of requirements.lock.
# Safe to run again: it only installs what is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # System packages the project needs (scripts/apt-packages.txt).
    missing=""
    for pkg in $(grep -v '^#' scripts/apt-packages.txt); do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
    done
    # npm installs the chat widget's socket.io client; Debian's npm brings its Node.js.
    command -v npm >/dev/null || missing="$missing npm"
    if [ -n "$missing" ]; then
        echo "==> installing system packages:$missing"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
    fi
fi

PYTHON=""
for candidate in python3.10 "$HOME/.pyenv/versions/3.10.13/bin/python3.10" /usr/bin/python3.10; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
        PYTHON="$candidate"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    echo "error: Python 3.10 is required (Rasa 3.6 supports no later version)." >&2
    echo "       Install it (for example with pyenv: 'pyenv install 3.10') and run 'make setup' again." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -m uv --version 2>/dev/null | grep -q "$UV_VERSION"; then
    .venv/bin/python -m pip install -q "uv==$UV_VERSION"
fi
echo "==> installing pinned dependencies (requirements.lock)"
.venv/bin/python -m uv pip install -q --python .venv/bin/python -r requirements.lock
.venv/bin/python -m uv pip install -q --python .venv/bin/python --no-deps -e .

# The npm packages pinned in package-lock.json: the chat widget's socket.io client, served from
# web/vendor/, and the Adaptive Cards renderer and markdown-it, with which the tests and
# scripts/teams_card_image.py render Teams cards.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
    || [ ! -f web/vendor/socket.io.min.js ]; then
    if ! command -v npm >/dev/null; then
        echo "error: npm (Node.js) is needed to install the packages of package-lock.json;" >&2
        echo "       install it (Debian: apt-get install npm) and run 'make setup' again." >&2
        exit 1
    fi
    echo "==> installing the npm packages (package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
    mkdir -p web/vendor
    cp node_modules/socket.io-client/dist/socket.io.min.js web/vendor/
    cp node_modules/socket.io-client/LICENSE web/vendor/socket.io.LICENSE
fi
echo "==> environment ready"
