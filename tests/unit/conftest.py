"""Fixtures the unit tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No VTEMBED_ setting from the shell, and a folder of its own as the current one (settings
    read `vtembed.toml` and `.env` from there)."""
    for key in list(os.environ):
        if key.startswith("VTEMBED_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
