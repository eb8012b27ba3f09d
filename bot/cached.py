"""Directories built once and kept under a fingerprint of what they are built from: the adapted
model (bot/adapt.py) and its ONNX export (bot/query_encoder.py). Each is built in a staging
directory inside its cache and moved into place only when complete, so an interrupted build
never leaves a half-built directory under a fingerprint."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def staging(cache: Path, prefix: str) -> Path:
    """A new, empty directory inside `cache` to build in."""
    cache.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=cache))


def publish(built: Path, target: Path) -> None:
    """Moves the finished `built` directory to `target`, and removes everything else in the
    cache: what was built from earlier inputs is not needed any more."""
    shutil.rmtree(target, ignore_errors=True)
    built.rename(target)
    for old in target.parent.iterdir():
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
