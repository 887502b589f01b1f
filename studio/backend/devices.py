"""Device tokens: a bearer token is shown once when a device is added; only its sha256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from studio.backend.db import devices, now_us, writes
from studio.backend.errors import BackendError, NotFound, Unauthorized

TOKEN_PREFIX = "rsd_"   # makes a leaked token recognisable (secret scanners, logs)


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    created_us: int
    revoked_us: int | None

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "created_us": self.created_us, "revoked_us": self.revoked_us,
                "active": self.revoked_us is None}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _row(r) -> Device:  # noqa: ANN001 - Row
    return Device(r.id, r.name, r.created_us, r.revoked_us)


def add_device(engine: Engine, name: str) -> tuple[Device, str]:
    """A new device and its token (returned here once, never stored). Raises BackendError for a bad name."""
    name = name.strip()
    if not re.fullmatch(r"[\w .@'’()-]{1,128}", name):
        raise BackendError("A device name uses letters, digits, spaces and . @ ' ( ) _ - (up to 128 characters).")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    device = Device(uuid.uuid4().hex, name, now_us(), None)
    with writes(engine).begin() as conn:
        conn.execute(insert(devices).values(id=device.id, name=device.name, token_sha256=token_hash(token),
                                            created_us=device.created_us))
    return device, token


def list_devices(engine: Engine) -> list[Device]:
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(select(devices).order_by(devices.c.created_us))]


def revoke_device(engine: Engine, ident: str) -> Device:
    """Revoke by id or by name (a name must be unambiguous). Raises NotFound / BackendError."""
    with writes(engine).begin() as conn:
        rows = conn.execute(select(devices).where((devices.c.id == ident) | (devices.c.name == ident))).all()
        if not rows:
            raise NotFound(f"There is no device {ident!r}; see `studio backend list-devices`.")
        if len(rows) > 1:
            raise BackendError(f"Several devices are named {ident!r}; revoke one by its id.")
        conn.execute(update(devices).where(devices.c.id == rows[0].id, devices.c.revoked_us.is_(None))
                     .values(revoked_us=now_us()))
        return _row(conn.execute(select(devices).where(devices.c.id == rows[0].id)).one())


def authenticate(engine: Engine, header: str | None) -> Device:
    """The active device whose token is in ``Authorization: Bearer …``. Raises Unauthorized."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise Unauthorized("A device token is required (Authorization: Bearer <token>).")
    with engine.connect() as conn:
        # looked up by its hash: equal hashes mean equal tokens, and the token itself is never compared
        r = conn.execute(select(devices).where(devices.c.token_sha256 == token_hash(token))).first()
    if r is None or r.revoked_us is not None:
        raise Unauthorized("This device token is not valid (unknown or revoked).")
    return _row(r)
