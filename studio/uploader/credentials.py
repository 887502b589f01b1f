"""Secrets in the OS keyring, and nowhere else.

Entries live under the service name ``reel-studio``. Where the machine has no usable keyring
(a headless Linux without a secret service) we say so instead of falling back to a plain file.
"""

from __future__ import annotations

import json
import logging

from studio.uploader.errors import NoKeyringError

log = logging.getLogger(__name__)
SERVICE = "reel-studio"


def keyring_available() -> bool:
    try:
        import keyring
        from keyring.backends import fail

        kr = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a broken keyring install is the same as none
        return False
    if isinstance(kr, fail.Keyring):
        return False
    # The chainer reports as available even when every backend inside it is the fail one.
    backends = getattr(kr, "backends", None)
    return bool(backends) if backends is not None else True


def put_secret(name: str, value: dict) -> None:
    """Store ``value`` (JSON-able) under ``name``. Raises NoKeyringError where there is no keyring."""
    if not keyring_available():
        raise NoKeyringError()
    import keyring

    keyring.set_password(SERVICE, name, json.dumps(value))


def get_secret(name: str) -> dict | None:
    """The stored value, or None when absent or when there is no keyring."""
    if not keyring_available():
        return None
    import keyring

    try:
        raw = keyring.get_password(SERVICE, name)
    except Exception as e:  # noqa: BLE001 - a locked keyring reads as "absent"; never log the value
        log.warning("keyring read failed for %s: %s", name, type(e).__name__)
        return None
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def delete_secret(name: str) -> None:
    if not keyring_available():
        return
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        pass
