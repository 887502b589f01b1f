"""Shared test fixtures: headless Qt, an isolated profile per test, the shared real-world media."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_runner import run_cli

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")

ROOT = Path(__file__).resolve().parent.parent
SHARED_MEDIA = (ROOT.parent / "shared" / "media").resolve()


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """../shared/media: real files other people made (see SOURCES.md there)."""
    if not SHARED_MEDIA.is_dir():
        pytest.fail(f"{SHARED_MEDIA} is missing; tests need the shared media next to the checkout")
    return SHARED_MEDIA


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "profile"
    d.mkdir()
    return d


@pytest.fixture
def studio(data_dir: Path):
    """Services on a fresh, isolated profile (real SQLite, real folders)."""
    from studio.app import build

    s = build(data_dir)
    yield s
    s.close()


@pytest.fixture
def cli(data_dir: Path):
    """``cli("drafts", "list", "--json")`` runs the real command on this test's profile."""
    return lambda *args, **kw: run_cli(*args, data_dir=data_dir, **kw)
