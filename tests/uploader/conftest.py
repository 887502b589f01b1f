"""Uploader fixtures: one real SeaweedFS for the session (started by the app's own launcher), a
keyring of the tests' own, targets pointing at that server, and an independent S3 client
(tests/support/s3_fixtures.py, shared with tests/publish)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
MiB = 1024 * 1024

from s3_fixtures import raw_s3, s3_server, test_keyring  # noqa: E402, F401 - fixtures of this folder
