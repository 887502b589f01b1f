"""Named upload targets, their credentials, and S3 clients for them.

A target row holds where to upload and how (bucket, key template, part size...). Credentials come
from the AWS credential chain (profile / environment), the OS keyring, or — for the built-in
target ``local`` ("This computer") — the embedded SeaweedFS launcher. A "Team server" target
(``backend_url``) holds no storage credentials at all: a device token (keyring, or
$STUDIO_BACKEND_TOKEN at run time) lets the backend sign each part (studio.uploader.backend_client).
Secrets never reach the database, the settings, the logs or an exception's text.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import PurePosixPath
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.uploader import credentials
from studio.uploader import credentials as keyring_store  # for add_backend, whose `credentials` argument hides it
from studio.uploader.backend_client import ENV_TOKEN, BackendS3Client, probe
from studio.uploader.errors import NoKeyringError, PermanentUploadError, TargetNotFound, UploadError, classify
from studio.uploader.models import TargetRow, now_us
from studio.uploader.network import http_url
from studio.uploader.webhook import ENV_SECRET, validate_url

log = logging.getLogger(__name__)
LOCAL = "local"
MiB = 1024 * 1024
MIN_PART = 5 * MiB
MAX_PARTS = 10_000
DEFAULT_TEMPLATE = "reels/{date}/{draft_id}/{name}"
CHECKSUMS = ("SHA256", "CRC32", "CRC32C", "NONE")
ADDRESSING = ("auto", "path", "virtual")
CRED_SOURCES = ("aws", "keyring", "local", "env")   # env: a team server's token from $STUDIO_BACKEND_TOKEN
LINK_SECONDS = 7 * 24 * 3600   # the longest a SigV4 pre-signed URL may live


@dataclass(frozen=True)
class Target:
    name: str
    bucket: str
    endpoint_url: str = ""
    region: str = "us-east-1"
    key_template: str = DEFAULT_TEMPLATE
    addressing_style: str = "auto"
    part_size: int = 8 * MiB
    concurrency: int = 4
    checksum_algorithm: str = "SHA256"
    checksum_when_required: bool = False
    bandwidth_limit: int = 0  # bytes per second, 0 = unlimited
    credential_source: str = "aws"
    aws_profile: str | None = None
    webhook_url: str | None = None
    unmetered_only: bool = False
    webhook_unsigned: bool = False   # an explicit choice: deliveries carry no signature
    public_base_url: str | None = None   # e.g. a CDN or an R2 public bucket: links are this + the key
    backend_url: str = ""                # a team server signs every part; no storage keys here

    @property
    def is_local(self) -> bool:
        return self.credential_source == LOCAL

    @property
    def is_backend(self) -> bool:
        return bool(self.backend_url)

    @property
    def label(self) -> str:
        return "This computer" if self.name == LOCAL else self.name

    def to_dict(self) -> dict:
        d = asdict(self)
        d["label"] = self.label
        return d

    def prefix(self) -> str:
        """The fixed start of every key this target writes (what the sweeper may clean up)."""
        head = self.key_template.split("{", 1)[0]
        return head[: head.rfind("/") + 1]

    def render_key(self, *, name: str, draft_id: str | None, job_id: str, when: datetime | None = None) -> str:
        when = when or datetime.now(timezone.utc)
        safe_name = re.sub(r"[^A-Za-z0-9._-]+", "-", PurePosixPath(name).name).strip("-") or "upload.bin"
        values = {"date": when.strftime("%Y-%m-%d"), "draft_id": draft_id or "files", "name": safe_name,
                  "job_id": job_id, "year": when.strftime("%Y"), "month": when.strftime("%m")}
        try:
            key = self.key_template.format(**values)
        except (KeyError, IndexError, ValueError) as e:
            raise PermanentUploadError(
                f"The key template {self.key_template!r} of target {self.name!r} uses an unknown field ({e}); "
                "use {date}, {draft_id}, {name}, {job_id}.") from None
        return key.lstrip("/")


# Kinds of destination the window offers, with what each needs (the CLI takes the same fields as flags).
PROVIDERS = {
    "aws": {"label": "Amazon S3", "endpoint_hint": "", "region": "us-east-1", "addressing_style": "auto",
            "needs_endpoint": False},
    "r2": {"label": "Cloudflare R2", "endpoint_hint": "https://ACCOUNT_ID.r2.cloudflarestorage.com",
           "region": "auto", "addressing_style": "path", "needs_endpoint": True},
    "s3": {"label": "MinIO, SeaweedFS or any S3", "endpoint_hint": "http://127.0.0.1:9000", "region": "us-east-1",
           "addressing_style": "path", "needs_endpoint": True},
    # the team's own server signs every part (`studio backend serve`); this computer holds a device token only
    "team": {"label": "Team server", "endpoint_hint": "https://uploads.example.com", "region": "us-east-1",
             "addressing_style": "path", "needs_endpoint": False},
}


def provider_of(target: Target) -> str:
    """Which of PROVIDERS a saved target is (by its endpoint)."""
    if target.is_backend:
        return "team"
    if not target.endpoint_url:
        return "aws"
    return "r2" if ".r2.cloudflarestorage.com" in target.endpoint_url else "s3"


def check_provider_fields(provider: str, target: Target) -> None:
    """What a kind requires beyond ``Target``'s own checks. Raises UploadError with a sentence."""
    if PROVIDERS.get(provider, {}).get("needs_endpoint") and not target.endpoint_url:
        raise UploadError(f"{PROVIDERS[provider]['label']} needs an endpoint URL, e.g. "
                          f"{PROVIDERS[provider]['endpoint_hint']}.")
    if provider == "aws" and target.endpoint_url:
        raise UploadError("Amazon S3 needs no endpoint; leave it empty (or choose “any S3”).")


def local_target() -> Target:
    return Target(name=LOCAL, bucket="reels", credential_source=LOCAL, region="us-east-1",
                  addressing_style="path", part_size=8 * MiB, concurrency=4)


def plan_part_size(size: int, wanted: int) -> int:
    """The part size frozen for a file: at least 5 MiB, and large enough to stay within 10,000 parts."""
    ps = max(MIN_PART, wanted)
    while size > ps * MAX_PARTS:
        ps *= 2
    return ps


def _row_to_target(r: TargetRow) -> Target:
    return Target(name=r.name, bucket=r.bucket, endpoint_url=r.endpoint_url or "", region=r.region,
                  key_template=r.key_template, addressing_style=r.addressing_style, part_size=r.part_size,
                  concurrency=r.concurrency, checksum_algorithm=r.checksum_algorithm,
                  checksum_when_required=bool(r.checksum_when_required), bandwidth_limit=r.bandwidth_limit,
                  credential_source=r.credential_source, aws_profile=r.aws_profile, webhook_url=r.webhook_url,
                  unmetered_only=bool(r.unmetered_only), webhook_unsigned=bool(r.webhook_unsigned),
                  public_base_url=r.public_base_url or None, backend_url=r.backend_url or "")


def _secret_name(target: str) -> str:
    return f"target:{target}"


def _webhook_secret_name(target: str) -> str:
    return f"webhook:{target}"


def _backend_token_name(target: str) -> str:
    return f"backend:{target}"


def backend_target(name: str, url: str, *, credentials: str = "keyring", bucket: str = "team",
                   concurrency: int = 4, part_size: int = 8 * MiB, **extra) -> Target:
    """A "Team server" target: the backend chooses the keys and signs every part. Parts are checked
    by their MD5 (the ETag) since a pre-signed URL carries no checksum header."""
    return Target(name=name, bucket=bucket, backend_url=url.rstrip("/"), credential_source=credentials,
                  checksum_algorithm="NONE", concurrency=concurrency, part_size=part_size,
                  key_template="{job_id}/{name}", **extra)   # the server's key replaces it; unique per job


class TargetStore:
    """Add, list, remove and test targets; build S3 clients for them."""

    def __init__(self, studio):  # noqa: ANN001 - studio.app.Studio
        self.studio = studio
        self._clients: dict = {}
        self._clients_lock = threading.Lock()

    # -- records
    def list(self) -> list[Target]:
        with Session(self.studio.engine) as s:
            rows = s.scalars(select(TargetRow).order_by(TargetRow.created_us)).all()
            stored = [_row_to_target(r) for r in rows]
        if not any(t.name == LOCAL for t in stored):
            stored.insert(0, local_target())
        return stored

    def get(self, name: str) -> Target:
        with Session(self.studio.engine) as s:
            row = s.get(TargetRow, name)
            if row is not None:
                return _row_to_target(row)
        if name == LOCAL:
            return local_target()
        raise TargetNotFound(name)

    def add(self, target: Target, *, access_key: str | None = None, secret_key: str | None = None,
            webhook_secret: str | None = None, replace_existing: bool = False, token: str | None = None) -> Target:
        """Save a target. Everything is checked first (settings, webhook, name taken, keyring present),
        so a refused add changes nothing; only then are secrets written to the keyring, and put back
        as they were if the record cannot be saved.

        Raises UploadError (a sentence), NoKeyringError where keyring credentials have no keyring.
        A webhook secret where there is no keyring is not stored: deliveries read
        $STUDIO_WEBHOOK_SECRET at run time.
        """
        self._validate(target)
        secrets: dict[str, dict] = {}
        if target.is_backend and target.credential_source == "keyring":
            token = token or (credentials.get_secret(_backend_token_name(target.name)) or {}).get("token") \
                if replace_existing else token
            if not token:
                raise UploadError("A team server target needs its device token (from `studio backend add-device`), "
                                  "or --credentials env to read $STUDIO_BACKEND_TOKEN when uploads run.")
            if not credentials.keyring_available():
                raise NoKeyringError()
            secrets[_backend_token_name(target.name)] = {"token": token}
        elif target.credential_source == "keyring":
            if not (access_key and secret_key):
                raise UploadError("Credentials stored in the keyring need both an access key and a secret key.")
            if not credentials.keyring_available():
                raise NoKeyringError()
            secrets[_secret_name(target.name)] = {"access_key": access_key, "secret_key": secret_key}
        if target.webhook_url and not target.webhook_unsigned:
            kept = replace_existing and credentials.get_secret(_webhook_secret_name(target.name))
            if not webhook_secret and not kept:
                raise UploadError(f"A webhook is signed with a secret: set ${ENV_SECRET} (kept in the keyring, or "
                                  "read from the environment when uploads run where there is no keyring), or "
                                  "choose an unsigned webhook explicitly (--webhook-unsigned).")
            if not webhook_secret:
                pass   # --replace keeps the secret already in the keyring
            elif credentials.keyring_available():
                secrets[_webhook_secret_name(target.name)] = {"secret": webhook_secret}
            else:
                log.info("no keyring: the webhook secret of %s will be read from $%s at run time",
                         target.name, ENV_SECRET)
        with Session(self.studio.engine) as s:
            if s.get(TargetRow, target.name) is not None and not replace_existing:
                raise UploadError(f"A target named {target.name!r} already exists; remove it first or use --replace.")
        previous = {name: credentials.get_secret(name) for name in secrets}
        try:
            for name, value in secrets.items():
                credentials.put_secret(name, value)
            with Session(self.studio.engine.execution_options(studio_write=True)) as s, s.begin():
                existing = s.get(TargetRow, target.name)
                if existing is not None and not replace_existing:
                    raise UploadError(f"A target named {target.name!r} already exists; remove it first or use "
                                      "--replace.")
                if existing is not None:
                    s.delete(existing)
                    s.flush()
                s.add(TargetRow(**{k: v for k, v in asdict(target).items()}, created_us=now_us()))
        except BaseException:
            for name, value in previous.items():   # the keyring as it was before this add
                try:
                    if value is None:
                        credentials.delete_secret(name)
                    else:
                        credentials.put_secret(name, value)
                except Exception:  # noqa: BLE001 - never mask the original error
                    log.warning("could not restore keyring entry %s", name)
            raise
        return target

    def add_backend(self, name: str, url: str, *, token: str | None = None, credentials: str = "keyring",
                    replace_existing: bool = False, **fields) -> tuple[Target, dict]:
        """Save a "Team server" target after the server accepted the token (so a typo fails now, not at
        upload time); the bucket's name is the server's. ``token`` empty: with ``credentials="env"``
        $STUDIO_BACKEND_TOKEN now, when replacing the one already in the keyring. Returns the target and
        the server's answer ({"device", "bucket", ...}). Raises UploadError with a sentence."""
        url = validate_backend_url(url.strip()).rstrip("/")
        if credentials not in ("keyring", "env"):
            raise UploadError("A team server's token is kept in the keyring or read from $STUDIO_BACKEND_TOKEN.")
        token = (token or "").strip() or None
        now = token or (os.environ.get(ENV_TOKEN, "").strip() if credentials == "env" else None) or \
            ((keyring_store.get_secret(_backend_token_name(name)) or {}).get("token") if replace_existing else None)
        if not now:
            raise UploadError("Enter the device token the team server's admin gave you (`studio backend "
                              f"add-device`), or read it from ${ENV_TOKEN} when uploads run.")
        me = BackendS3Client(url, now, read_timeout=20, connect_timeout=5).whoami()
        target = backend_target(name, url, credentials=credentials, bucket=str(me.get("bucket") or "team"), **fields)
        self.add(target, token=now if credentials == "keyring" else None, replace_existing=replace_existing)
        if credentials == "env":
            keyring_store.delete_secret(_backend_token_name(name))
        return target, me

    def update(self, target: Target, *, access_key: str | None = None, secret_key: str | None = None,
               webhook_secret: str | None = None, token: str | None = None) -> Target:
        """Change a saved target (its name stays: queued jobs refer to it). Keys left empty keep the stored
        ones. Raises TargetNotFound, UploadError (bad field), NoKeyringError."""
        before = self.get(target.name)
        if target.is_backend:
            return self.add(target, webhook_secret=webhook_secret, replace_existing=True, token=token)
        if target.credential_source == "keyring" and not (access_key and secret_key):
            stored = credentials.get_secret(_secret_name(target.name)) or {}
            access_key, secret_key = access_key or stored.get("access_key"), secret_key or stored.get("secret_key")
        saved = self.add(target, access_key=access_key, secret_key=secret_key, webhook_secret=webhook_secret,
                         replace_existing=True)
        if before.credential_source == "keyring" and target.credential_source != "keyring":
            credentials.delete_secret(_secret_name(target.name))
        return saved

    # -- links
    def link(self, target: Target, bucket: str, key: str, *, expires: int = LINK_SECONDS) -> dict:
        """A link that opens the object in a browser: ``{"url", "expires_us", "kind"}``.

        With a public base URL it is that URL plus the key (``kind`` "public", no expiry); otherwise a
        pre-signed GET URL valid for ``expires`` seconds (at most 7 days, SigV4's limit). For "This
        computer" it points at the local S3, and opens while Reel Studio (or `studio local-s3 start`)
        runs. Never starts a server. Raises UploadError when no link can be made (no credentials...).
        """
        from urllib.parse import quote

        if target.public_base_url:
            return {"url": f"{target.public_base_url.rstrip('/')}/{quote(key)}", "expires_us": None,
                    "kind": "public"}
        expires = max(1, min(int(expires), LINK_SECONDS))
        if target.is_backend:
            info = self.client(target, read_timeout=20, connect_timeout=5).object_info(key)
            if not info:
                raise UploadError("The team server has no finished upload of this file for this device.")
            expires_in = int(info.get("expires") or 0)
            return {"url": info["url"], "expires_us": now_us() + expires_in * 1_000_000 if expires_in else None,
                    "kind": "presigned"}
        if target.is_local:
            endpoint = self.studio.local_s3.link_endpoint()
            if not endpoint:
                raise UploadError("The storage on this computer has not run yet, so it has no address to link to.")
            target = replace(target, endpoint_url=endpoint)
        try:
            creds = self._credentials(target)
            client = self._cached(("link", target), creds, lambda: self._new_client(target, creds, 20, 5))
            url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                                ExpiresIn=expires)
        except UploadError:
            raise
        except Exception as e:  # noqa: BLE001 - e.g. no credentials in the AWS chain
            raise classify(e, bucket=bucket) from None
        return {"url": url, "expires_us": now_us() + expires * 1_000_000, "kind": "presigned"}

    def _cached(self, key, creds: dict, build):  # noqa: ANN001, ANN202
        import hashlib
        import json

        key = (key, hashlib.sha256(json.dumps(creds, sort_keys=True).encode()).digest())
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                if len(self._clients) > 16:
                    self._clients.clear()
                client = self._clients[key] = build()
            return client

    def remove(self, name: str) -> None:
        with Session(self.studio.engine.execution_options(studio_write=True)) as s, s.begin():
            row = s.get(TargetRow, name)
            if row is None:
                raise TargetNotFound(name)
            s.delete(row)
        credentials.delete_secret(_secret_name(name))
        credentials.delete_secret(_webhook_secret_name(name))
        credentials.delete_secret(_backend_token_name(name))

    @staticmethod
    def _validate(t: Target) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", t.name):
            raise UploadError("A target name uses letters, digits, '.', '_' or '-' (up to 64).")
        if t.name == LOCAL and t.credential_source != LOCAL:
            raise UploadError("'local' is the built-in target for this computer; choose another name.")
        if t.is_backend:
            validate_backend_url(t.backend_url)
            if t.credential_source not in ("keyring", "env"):
                raise UploadError("A team server's device token is kept in the keyring, or read from "
                                  "$STUDIO_BACKEND_TOKEN when uploads run (--credentials env).")
            if t.checksum_algorithm != "NONE":
                raise UploadError("Parts sent through a team server are checked by their MD5 (ETag); choose the "
                                  "checksum NONE.")
        elif t.credential_source == "env":
            raise UploadError("--credentials env is for a team server's token (with --backend URL).")
        if t.endpoint_url and urlparse(t.endpoint_url).scheme not in ("http", "https"):
            raise UploadError("The endpoint must be an http:// or https:// URL (or empty for AWS).")
        if t.public_base_url and (urlparse(t.public_base_url).scheme not in ("http", "https")
                                  or not urlparse(t.public_base_url).netloc):
            raise UploadError("The public base URL must be an http:// or https:// address "
                              "(for example https://cdn.example.com), or empty.")
        if t.checksum_algorithm not in CHECKSUMS:
            raise UploadError(f"The checksum algorithm is one of {', '.join(CHECKSUMS)}.")
        if t.checksum_algorithm == "CRC32C" and not _has_awscrt():
            raise UploadError("CRC32C checksums need the awscrt package (pip install awscrt); "
                              "choose SHA256 or CRC32 instead.")
        if t.addressing_style not in ADDRESSING:
            raise UploadError(f"The addressing style is one of {', '.join(ADDRESSING)}.")
        if t.credential_source not in CRED_SOURCES:
            raise UploadError(f"Credentials come from one of {', '.join(CRED_SOURCES)}.")
        if t.part_size < MIN_PART or t.part_size > 5 * 1024 * MiB:
            raise UploadError("The part size is between 5 MiB and 5 GiB.")
        if not 1 <= t.concurrency <= 64:
            raise UploadError("The concurrency is between 1 and 64.")
        if not t.bucket:
            raise UploadError("A target needs a bucket.")
        if t.webhook_url:
            validate_url(t.webhook_url)
        t.render_key(name="x.mp4", draft_id="d", job_id="j")

    def webhook_secret(self, name: str) -> str | None:
        """The keyring's secret for this target's webhook, else $STUDIO_WEBHOOK_SECRET, else None."""
        found = credentials.get_secret(_webhook_secret_name(name))
        return (found.get("secret") if found else None) or os.environ.get(ENV_SECRET) or None

    # -- clients
    def resolve(self, target: Target) -> Target:
        """The target with a concrete endpoint (starts the local S3 for ``local``)."""
        if target.is_local:
            return replace(target, endpoint_url=self.studio.local_s3.ensure_running())
        return target

    def client(self, target: Target, *, read_timeout: float = 60, connect_timeout: float = 10):
        """A boto3 S3 client for ``target`` with botocore's own retries off (the engine retries).

        Clients are cached per target settings (building one costs a few hundred ms); they are thread-safe.
        """
        import hashlib
        import json

        target = self.resolve(target)
        creds = self._credentials(target)
        if target.is_backend:
            # cheap to build (no connection until a request), and the token may change between runs
            return BackendS3Client(target.backend_url, creds["token"], read_timeout=read_timeout,
                                   connect_timeout=connect_timeout)
        # Keyed by a digest of the credentials too, so re-entered keys (from any process) take effect.
        fingerprint = hashlib.sha256(json.dumps(creds, sort_keys=True).encode()).digest()
        key = (target, read_timeout, connect_timeout, fingerprint)
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                if len(self._clients) > 16:
                    self._clients.clear()
                client = self._clients[key] = self._new_client(target, creds, read_timeout, connect_timeout)
            return client

    def _new_client(self, target: Target, creds: dict, read_timeout: float, connect_timeout: float):
        # botocore's own session: boto3 adds nothing the engine uses (its transfer methods, resources),
        # only its import and its handlers, to every `uploads run` before the first byte.
        import botocore.session
        from botocore.config import Config

        when = "when_required" if target.checksum_when_required else "when_supported"
        cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=read_timeout,
                     connect_timeout=connect_timeout, max_pool_connections=max(10, target.concurrency * 2),
                     # With a per-part checksum the server verifies every byte, so the separate
                     # SigV4 payload hash (a second full read of each part) is skipped.
                     s3={"addressing_style": target.addressing_style,
                         "payload_signing_enabled": target.checksum_algorithm == "NONE"},
                     request_checksum_calculation=when,
                     response_checksum_validation=when, signature_version="s3v4")
        kwargs = {"region_name": target.region or "us-east-1", "config": cfg}
        if target.endpoint_url:
            kwargs["endpoint_url"] = target.endpoint_url
        creds = dict(creds)
        session = botocore.session.Session(profile=creds.pop("profile_name", None))
        return session.create_client("s3", **kwargs, **creds)

    def _credentials(self, target: Target) -> dict:
        if target.is_backend:
            return {"token": backend_token(target)}
        if target.credential_source == LOCAL:
            c = self.studio.local_s3.credentials()
            return {"aws_access_key_id": c["access_key"], "aws_secret_access_key": c["secret_key"]}
        if target.credential_source == "keyring":
            if not credentials.keyring_available():
                raise NoKeyringError()
            c = credentials.get_secret(_secret_name(target.name))
            if not c:
                raise PermanentUploadError(f"The credentials of target {target.name!r} are not in the keyring any "
                                           "more: add the target again with its access key.")
            return {"aws_access_key_id": c["access_key"], "aws_secret_access_key": c["secret_key"]}
        return {"profile_name": target.aws_profile} if target.aws_profile else {}

    # -- test
    def test(self, name: str) -> dict:
        """Write, read back and delete a small object. Returns {"ok", "verdict", "code", "seconds"}."""
        target = self.get(name)
        if target.is_backend:
            return probe(target, lambda: self.client(target, read_timeout=20, connect_timeout=5))
        return self._probe(target, lambda: self.client(target, read_timeout=20, connect_timeout=5))

    def test_unsaved(self, target: Target, *, access_key: str | None = None, secret_key: str | None = None) -> dict:
        """``test`` for a target not saved yet (the Destinations dialog), with the keys typed in.

        Keys left empty for a keyring target are those already stored under its name (editing).
        """
        self._validate(target)
        if target.is_backend:
            token = access_key or (credentials.get_secret(_backend_token_name(target.name)) or {}).get("token") \
                if target.credential_source == "keyring" else None
            if target.credential_source == "keyring" and not token:
                return {"ok": False, "code": "no-credentials", "seconds": 0.0,
                        "verdict": "Enter the device token to test this team server."}
            return probe(target, lambda: BackendS3Client(target.backend_url, token or backend_token(target),
                                                         read_timeout=20, connect_timeout=5))
        if target.credential_source == "keyring" and not (access_key and secret_key):
            stored = credentials.get_secret(_secret_name(target.name)) or {}
            access_key = access_key or stored.get("access_key")
            secret_key = secret_key or stored.get("secret_key")
            if not (access_key and secret_key):
                return {"ok": False, "code": "no-credentials", "seconds": 0.0,
                        "verdict": "Enter the access key and the secret key to test this destination."}

        def make_client():  # noqa: ANN202
            resolved = self.resolve(target)
            if target.credential_source == "keyring":
                creds = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key}
            else:
                creds = self._credentials(resolved)
            return self._new_client(resolved, creds, 20, 5)

        return self._probe(target, make_client)

    def _probe(self, target: Target, make_client) -> dict:  # noqa: ANN001
        t0 = time.monotonic()
        key = f"{target.prefix()}.studio-test-{uuid.uuid4().hex}"
        body = uuid.uuid4().bytes * 64
        try:
            unreachable = self._unreachable(self.resolve(target))
            if unreachable:
                return {"ok": False, "code": "unreachable", "verdict": unreachable, "seconds": time.monotonic() - t0}
            client = make_client()
            client.head_bucket(Bucket=target.bucket)   # some servers create a missing bucket on write
            client.put_object(Bucket=target.bucket, Key=key, Body=body)
            got = client.get_object(Bucket=target.bucket, Key=key)["Body"].read()
            client.delete_object(Bucket=target.bucket, Key=key)
        except Exception as e:  # noqa: BLE001 - every failure becomes a verdict
            err = classify(e, bucket=target.bucket)
            code = getattr(e, "response", {}).get("Error", {}).get("Code") if hasattr(e, "response") else None
            return {"ok": False, "code": code or type(err).__name__, "verdict": str(err),
                    "seconds": time.monotonic() - t0}
        if got != body:
            return {"ok": False, "code": "mismatch", "seconds": time.monotonic() - t0,
                    "verdict": "The object read back differs from what was written: the storage is not reliable."}
        return {"ok": True, "code": "ok", "seconds": time.monotonic() - t0,
                "verdict": f"Target {target.label!r} works: wrote, read back and deleted a test object in "
                           f"{target.bucket}."}

    @staticmethod
    def _unreachable(target: Target) -> str | None:
        host, port = endpoint_host_port(target)
        try:
            socket.create_connection((host, port), timeout=5).close()
        except OSError as e:
            return (f"Cannot reach {host}:{port} ({e.strerror or e}): check the endpoint URL and the network "
                    "connection.")
        return None


def _has_awscrt() -> bool:
    import importlib.util

    return importlib.util.find_spec("awscrt") is not None


def validate_backend_url(url: str) -> str:
    """An https:// URL with a host (http:// only for this computer: a token must not cross a network
    in the clear). Raises UploadError with a sentence."""
    u = http_url(url)
    if u is None:
        raise UploadError(f"The team server {url!r} is not an https:// URL with a host, e.g. "
                          "https://uploads.example.com.")
    if u.scheme == "http" and u.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise UploadError("A team server is reached over https:// (its device token must not cross the network "
                          "in the clear); http:// is only for one on this computer (127.0.0.1).")
    return url


def backend_token(target: Target) -> str:
    """The device token of a team server target: the keyring's, or $STUDIO_BACKEND_TOKEN with
    --credentials env (read now, at run time). Raises PermanentUploadError with a sentence."""
    if target.credential_source == "env":
        token = os.environ.get(ENV_TOKEN, "").strip()
        if not token:
            raise PermanentUploadError(f"The team server target {target.name!r} reads its device token from "
                                       f"${ENV_TOKEN}, which is not set where uploads run.")
        return token
    found = credentials.get_secret(_backend_token_name(target.name))
    if not found or not found.get("token"):
        raise PermanentUploadError(f"The device token of team server target {target.name!r} is not in the keyring "
                                   "any more: add the target again with its token.")
    return found["token"]


def endpoint_host_port(target: Target) -> tuple[str, int]:
    if target.backend_url:
        u = urlparse(target.backend_url)
        return u.hostname or "localhost", u.port or (443 if u.scheme == "https" else 80)
    if target.endpoint_url:
        u = urlparse(target.endpoint_url)
        return u.hostname or "localhost", u.port or (443 if u.scheme == "https" else 80)
    return f"s3.{target.region or 'us-east-1'}.amazonaws.com", 443


def reachable(target: Target, timeout: float = 3) -> bool:
    try:
        socket.create_connection(endpoint_host_port(target), timeout=timeout).close()
        return True
    except OSError:
        return False
