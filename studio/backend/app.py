"""The ASGI app: Uppy Companion's S3 multipart routes, each behind a device token.

    POST   /s3/multipart                               {filename, type, metadata[, size]} -> {key, uploadId}
                                                       (metadata.client_ref: asking again resumes that upload)
    GET    /s3/multipart                               this device's unfinished uploads (S3's shape)
    GET    /s3/multipart/{uploadId}?key=               every part uploaded so far [{PartNumber, Size, ETag}]
    GET    /s3/multipart/{uploadId}/batch?key=&partNumbers=1,2   {presignedUrls: {"1": url, ...}}
    GET    /s3/multipart/{uploadId}/{partNumber}?key=  {url, expires}
    POST   /s3/multipart/{uploadId}/complete?key=      {parts: [{PartNumber, ETag}]} -> {location, ...}
    DELETE /s3/multipart/{uploadId}?key=               {}
    GET    /s3/object?key=                             a completed upload: {size, etag, url}
    GET    /s3/device                                  who this token is, and the bucket
    POST   /storage/notify                             SeaweedFS filer notifications (its own token)
    GET    /healthz                                    no token: the database and the bucket answer

Keys are the server's: ``<prefix><device id>/<yyyy>/<mm>/<random>/<cleaned file name>``; a device
reaches only uploads it created (another's answers 404, as an unknown one does). Bodies are
bounded; part numbers are 1..10000 (and within the declared size); the completed object's size
must be the declared one.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath

from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from studio.backend import devices as dev
from studio.backend import outbox
from studio.backend.db import now_us, open_database, uploads, writes
from studio.backend.errors import BackendError, NotFound, TooLarge, Unauthorized
from studio.backend.storage import Storage, StorageConfig, s3_code

log = logging.getLogger(__name__)
MiB = 1024 * 1024
MIN_PART = 5 * MiB
MAX_PART = 5 * 1024 * MiB
MAX_PARTS = 10_000
CREATE_BODY_MAX = 64 * 1024
COMPLETE_BODY_MAX = 1024 * 1024          # 10,000 parts of {"PartNumber": n, "ETag": "…"} fit
NOTIFY_BODY_MAX = 256 * 1024
METADATA_MAX_ENTRIES = 32
METADATA_VALUE_MAX = 1024


@dataclass(frozen=True)
class BackendConfig:
    db_url: str
    storage: StorageConfig
    webhook: outbox.WebhookConfig = field(default_factory=outbox.WebhookConfig)
    key_prefix: str = "devices/"
    max_object_size: int = 5 * 1024 * 1024 * MiB      # S3's own limit, 5 TiB
    filer_token: str | None = None                     # bearer token of /storage/notify (None: route off)
    cors_origins: tuple[str, ...] = ()                 # web pages (Uppy) allowed to call the routes
    deliver_interval: float = 1.0


class Backend:
    """The services behind the routes (one per process; all state is in the database)."""

    def __init__(self, config: BackendConfig):
        self.config = config
        self.db = open_database(config.db_url)
        self.storage = Storage(config.storage)
        self.deliverer = outbox.Deliverer(self.db, config.webhook, config.deliver_interval)

    # -- who is asking, and which upload
    def device(self, request: Request) -> dev.Device:
        return dev.authenticate(self.db, request.headers.get("authorization"))

    def prefix(self, device: dev.Device) -> str:
        return f"{self.config.key_prefix}{device.id}/"

    def own_upload(self, device: dev.Device, upload_id: str, key: str | None):  # noqa: ANN201 - Row
        """The upload row if this device created it and ``key`` is its key; else NotFound (another
        device's upload reads exactly as an unknown one)."""
        if not key:
            raise BackendError("The upload's key is required (?key=…).")
        with self.db.connect() as conn:
            row = conn.execute(select(uploads).where(uploads.c.upload_id == upload_id)).first()
        if row is None or row.device_id != device.id or row.key != key or not key.startswith(self.prefix(device)):
            raise NotFound("There is no such upload for this device.")
        return row

    # -- create
    def create(self, device: dev.Device, body: dict) -> dict:
        filename = body.get("filename")
        content_type = body.get("type") or "application/octet-stream"
        metadata = body.get("metadata") or {}
        size = body.get("size", metadata.get("size") if isinstance(metadata, dict) else None)
        if not isinstance(filename, str) or not filename.strip() or len(filename) > 1024:
            raise BackendError("'filename' is required: the name of the file (up to 1024 characters).")
        if not isinstance(content_type, str) or not re.fullmatch(r"[\w.+-]+/[\w.+-]+", content_type):
            raise BackendError("'type' is a MIME type such as video/mp4.")
        if not isinstance(metadata, dict) or len(metadata) > METADATA_MAX_ENTRIES:
            raise BackendError(f"'metadata' is an object of up to {METADATA_MAX_ENTRIES} entries.")
        clean_meta = {}
        for k, v in metadata.items():
            if not isinstance(k, str) or len(k) > 64 or isinstance(v, (dict, list)) or len(str(v)) > METADATA_VALUE_MAX:
                raise BackendError(f"Metadata keys are names up to 64 characters, values up to "
                                   f"{METADATA_VALUE_MAX} characters.")
            clean_meta[k] = str(v)
        ref = clean_meta.pop("client_ref", None)
        if ref is not None:
            found = self._resumable(device, ref, content_type)
            if found is not None:
                return found
        declared = None
        if size not in (None, ""):
            try:
                declared = int(size)
            except (TypeError, ValueError):
                raise BackendError("'size' is a number of bytes.") from None
            if declared < 0 or declared > self.config.max_object_size:
                raise TooLarge(f"A file is at most {self.config.max_object_size} bytes here.")
        now = datetime.now(timezone.utc)
        key = f"{self.prefix(device)}{now:%Y/%m}/{secrets.token_hex(8)}/{clean_name(filename)}"
        s3_meta = {}
        if re.fullmatch(r"[0-9a-f]{64}", clean_meta.get("sha256", "")):
            s3_meta["sha256"] = clean_meta["sha256"]
        upload_id = self.storage.create(key, content_type, s3_meta)
        try:
            with writes(self.db).begin() as conn:
                conn.execute(uploads.insert().values(
                    upload_id=upload_id, key=key, device_id=device.id, filename=filename[:1024],
                    content_type=content_type, metadata_json=json.dumps(clean_meta, sort_keys=True),
                    declared_size=declared, state="open", created_us=now_us(), client_ref=ref))
        except BaseException:
            self._abort_quietly(key, upload_id)   # never an upload in the bucket that no row owns
            raise
        log.info("device %s created upload of %s", device.id, key)
        return {"key": key, "uploadId": upload_id}

    def _resumable(self, device: dev.Device, ref: str, content_type: str) -> dict | None:
        """The device's open upload created under the same ``client_ref`` (metadata), if the storage still
        has it: a client that crashed between our answer and its own commit asks again and resumes that
        upload instead of leaving it orphaned."""
        with self.db.connect() as conn:
            row = conn.execute(select(uploads).where(uploads.c.device_id == device.id, uploads.c.client_ref == ref,
                                                     uploads.c.state == "open")
                               .order_by(uploads.c.created_us.desc())).first()
        if row is None:
            return None
        try:
            self.storage.list_parts(row.key, row.upload_id)
        except Exception as e:  # noqa: BLE001 - gone from the storage: a new upload instead
            if s3_code(e) != "NoSuchUpload":
                raise
            with writes(self.db).begin() as conn:
                conn.execute(update(uploads).where(uploads.c.upload_id == row.upload_id).values(state="aborted"))
            return None
        log.info("device %s asked again for upload %s (client_ref): resuming it", device.id, row.key)
        return {"key": row.key, "uploadId": row.upload_id}

    # -- parts
    def check_part_number(self, row, text: str) -> int:  # noqa: ANN001 - Row
        try:
            n = int(text)
        except (TypeError, ValueError):
            raise BackendError(f"{text!r} is not a part number (1 to {MAX_PARTS}).") from None
        if not 1 <= n <= MAX_PARTS:
            raise BackendError(f"A part number is between 1 and {MAX_PARTS}.")
        if row.declared_size is not None and n > max(1, math.ceil(row.declared_size / MIN_PART)):
            raise BackendError(f"Part {n} is beyond the declared size of the file ({row.declared_size} bytes).")
        return n

    def sign(self, device: dev.Device, upload_id: str, key: str | None, numbers: list[str]) -> dict[int, str]:
        row = self.own_upload(device, upload_id, key)
        if row.state != "open":
            raise NotFound("This upload is finished; it takes no more parts.")
        return {n: self.storage.sign_part(row.key, upload_id, n) for n in
                (self.check_part_number(row, t) for t in numbers)}

    def list_parts(self, device: dev.Device, upload_id: str, key: str | None) -> list[dict]:
        row = self.own_upload(device, upload_id, key)
        return self.storage.list_parts(row.key, upload_id)

    # -- complete / abort
    def complete(self, device: dev.Device, upload_id: str, key: str | None, body: dict) -> dict:
        row = self.own_upload(device, upload_id, key)
        if row.state == "completed":      # a retry after a lost answer: the same answer again
            return self._completed_answer(row)
        if row.state != "open":
            raise NotFound("This upload was cancelled.")
        parts = _parse_parts(body)
        try:
            self.storage.complete(row.key, upload_id, parts)
        except Exception as e:  # noqa: BLE001 - sorted below
            code = s3_code(e)
            if code == "NoSuchUpload" and self.storage.head(row.key) is None:
                raise NotFound("The storage no longer has this upload (aborted or expired).") from None
            if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
                raise BackendError(f"The storage refused the parts ({code}): each part but the last must be at "
                                   "least 5 MiB, and every ETag must be the one its upload returned.") from None
            if code != "NoSuchUpload":
                raise
        head = self.storage.head(row.key)
        if head is None:
            raise BackendError("The storage did not keep the completed object; upload it again.", 502)
        if (row.declared_size is not None and head["size"] != row.declared_size) or \
                head["size"] > self.config.max_object_size:
            self.storage.delete(row.key)
            with writes(self.db).begin() as conn:
                conn.execute(update(uploads).where(uploads.c.upload_id == upload_id).values(state="aborted"))
            raise BackendError(f"The parts add up to {head['size']} bytes, not the declared "
                               f"{row.declared_size}; the object was removed.", 422)
        now = now_us()
        with writes(self.db).begin() as conn:
            done = conn.execute(update(uploads).where(uploads.c.upload_id == upload_id, uploads.c.state == "open")
                                .values(state="completed", completed_us=now, size=head["size"],
                                        etag=head["etag"])).rowcount
            if done:   # the post is recorded and its webhook queued in one transaction
                outbox.enqueue(conn, self.config.webhook, upload_id, {
                    "event": "upload.completed", "upload_id": upload_id, "bucket": self.storage.bucket,
                    "key": row.key, "size": head["size"], "etag": head["etag"], "filename": row.filename,
                    "content_type": row.content_type, "metadata": json.loads(row.metadata_json),
                    "device": {"id": device.id, "name": device.name}, "completed_us": now})
            row = conn.execute(select(uploads).where(uploads.c.upload_id == upload_id)).one()
        self.deliverer.wake()
        log.info("device %s completed %s (%d bytes)", device.id, row.key, row.size)
        return self._completed_answer(row)

    def _completed_answer(self, row) -> dict:  # noqa: ANN001 - Row
        return {"location": self._location(row.key), "key": row.key, "size": row.size, "etag": row.etag,
                "webhook": outbox.status(self.db, row.upload_id)}

    def _location(self, key: str) -> str:
        c = self.config.storage
        base = c.endpoint_url.rstrip("/") if c.endpoint_url else f"https://{c.bucket}.s3.{c.region}.amazonaws.com"
        from urllib.parse import quote

        return f"{base}/{c.bucket}/{quote(key)}" if c.endpoint_url else f"{base}/{quote(key)}"

    def abort(self, device: dev.Device, upload_id: str, key: str | None) -> dict:
        row = self.own_upload(device, upload_id, key)
        if row.state == "completed":
            raise BackendError("This upload is complete; it cannot be cancelled.", 409)
        try:
            self.storage.abort(row.key, upload_id)
        except Exception as e:  # noqa: BLE001 - an upload already gone is aborted
            if s3_code(e) != "NoSuchUpload":
                raise
        with writes(self.db).begin() as conn:
            conn.execute(update(uploads).where(uploads.c.upload_id == upload_id, uploads.c.state == "open")
                         .values(state="aborted"))
        return {}

    def _abort_quietly(self, key: str, upload_id: str) -> None:
        try:
            self.storage.abort(key, upload_id)
        except Exception:  # noqa: BLE001 - the bucket's lifecycle rule is the backstop
            log.warning("could not abort an unrecorded upload of %s", key)

    # -- the device's view
    def open_uploads(self, device: dev.Device) -> dict:
        return {"Uploads": self.storage.list_uploads(self.prefix(device)), "IsTruncated": False}

    def object(self, device: dev.Device, key: str | None) -> dict:
        if not key:
            raise BackendError("The object's key is required (?key=…).")
        with self.db.connect() as conn:
            row = conn.execute(select(uploads).where(uploads.c.key == key, uploads.c.device_id == device.id,
                                                     uploads.c.state == "completed")).first()
        head = self.storage.head(key) if row is not None else None
        if head is None:
            raise NotFound("There is no such object for this device.")
        return {**head, "key": key, "url": self.storage.sign_get(key), "expires": self.config.storage.part_url_ttl,
                "storage_confirmed": row.storage_confirmed_us is not None}

    def notify(self, request_token: str | None, body: dict) -> dict:
        """A SeaweedFS filer notification: an object that appears under /buckets/<bucket>/ confirms
        the upload of that key (``storage_confirmed_us``)."""
        want = self.config.filer_token
        scheme, _, token = (request_token or "").partition(" ")
        if not want or scheme.lower() != "bearer" or not secrets.compare_digest(token.strip(), want):
            raise Unauthorized("A storage notification needs the filer's token.")
        path = _notified_path(body)
        prefix = f"/buckets/{self.storage.bucket}/"
        if not path or not path.startswith(prefix):
            return {"matched": False}
        key = path[len(prefix):]
        with writes(self.db).begin() as conn:
            n = conn.execute(update(uploads).where(uploads.c.key == key, uploads.c.storage_confirmed_us.is_(None))
                             .values(storage_confirmed_us=now_us())).rowcount
        return {"matched": bool(n)}


def clean_name(filename: str) -> str:
    """The file name's last component, reduced to safe characters: never a path, never '..'."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:120]
    return name or "upload.bin"


def _parse_parts(body: dict) -> list[dict]:
    parts = body.get("parts") if isinstance(body, dict) else None
    if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_PARTS:
        raise BackendError(f"'parts' is a list of 1 to {MAX_PARTS} {{PartNumber, ETag}}.")
    out, seen = [], set()
    for p in parts:
        if not isinstance(p, dict):
            raise BackendError("Each part is {PartNumber, ETag}.")
        n, etag = p.get("PartNumber"), p.get("ETag")
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_PARTS or n in seen:
            raise BackendError(f"Part numbers are distinct whole numbers from 1 to {MAX_PARTS}.")
        if not isinstance(etag, str) or not 1 <= len(etag) <= 128:
            raise BackendError("Each part's ETag is the one its upload returned.")
        seen.add(n)
        out.append({"PartNumber": n, "ETag": etag})
    return sorted(out, key=lambda p: p["PartNumber"])


def _notified_path(body: dict) -> str | None:
    """The full path of the entry a SeaweedFS filer webhook event created, updated or renamed to:
    ``{"key": "/buckets/<bucket>/<key>", "event_type": "create", "message": {"new_entry": …,
    "new_parent_path": …}}`` (None for a delete or an unknown shape)."""
    if not isinstance(body, dict) or body.get("event_type") == "delete":
        return None
    msg = body.get("message") if isinstance(body.get("message"), dict) else {}
    entry = msg.get("new_entry") or msg.get("newEntry")
    parent = msg.get("new_parent_path") or msg.get("newParentPath")
    if body.get("event_type") == "rename" and isinstance(entry, dict) and isinstance(parent, str) and entry.get("name"):
        return parent.rstrip("/") + "/" + str(entry["name"])
    key = body.get("key")
    return key if isinstance(key, str) and key.startswith("/") and entry is not None else None


# -- HTTP ------------------------------------------------------------------------------------------
async def _json_body(request: Request, limit: int) -> dict:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"The request body is larger than {limit} bytes.")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise TooLarge(f"The request body is larger than {limit} bytes.")
    if not data:
        return {}
    try:
        body = json.loads(data)
    except ValueError:
        raise BackendError("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise BackendError("The request body is a JSON object.")
    return body


def create_app(config: BackendConfig) -> Starlette:
    """The ASGI app for ``config`` (opens the database and the storage client now; raises their errors)."""
    backend = Backend(config)

    def call(fn):  # noqa: ANN001, ANN202 - route decorator: a device, then fn in a worker thread
        async def endpoint(request: Request) -> JSONResponse:
            device = await run_in_threadpool(backend.device, request)
            result = await fn(request, device)
            return JSONResponse(result)
        return endpoint

    @call
    async def create(request, device):  # noqa: ANN001, ANN202
        body = await _json_body(request, CREATE_BODY_MAX)
        return await run_in_threadpool(backend.create, device, body)

    @call
    async def list_open(request, device):  # noqa: ANN001, ANN202
        return await run_in_threadpool(backend.open_uploads, device)

    @call
    async def list_parts(request, device):  # noqa: ANN001, ANN202
        return await run_in_threadpool(backend.list_parts, device, request.path_params["upload_id"],
                                       request.query_params.get("key"))

    @call
    async def sign_one(request, device):  # noqa: ANN001, ANN202
        urls = await run_in_threadpool(backend.sign, device, request.path_params["upload_id"],
                                       request.query_params.get("key"), [request.path_params["part"]])
        return {"url": next(iter(urls.values())), "expires": config.storage.part_url_ttl}

    @call
    async def sign_batch(request, device):  # noqa: ANN001, ANN202
        numbers = [t for t in (request.query_params.get("partNumbers") or "").split(",") if t.strip()]
        if not 1 <= len(numbers) <= 1000:
            raise BackendError("'partNumbers' lists 1 to 1000 part numbers, separated by commas.")
        urls = await run_in_threadpool(backend.sign, device, request.path_params["upload_id"],
                                       request.query_params.get("key"), numbers)
        return {"presignedUrls": {str(n): u for n, u in urls.items()}}

    @call
    async def complete(request, device):  # noqa: ANN001, ANN202
        body = await _json_body(request, COMPLETE_BODY_MAX)
        return await run_in_threadpool(backend.complete, device, request.path_params["upload_id"],
                                       request.query_params.get("key"), body)

    @call
    async def abort(request, device):  # noqa: ANN001, ANN202
        return await run_in_threadpool(backend.abort, device, request.path_params["upload_id"],
                                       request.query_params.get("key"))

    @call
    async def get_object(request, device):  # noqa: ANN001, ANN202
        return await run_in_threadpool(backend.object, device, request.query_params.get("key"))

    @call
    async def whoami(request, device):  # noqa: ANN001, ANN202
        return {"device": {"id": device.id, "name": device.name}, "bucket": config.storage.bucket,
                "prefix": backend.prefix(device), "part_url_ttl": config.storage.part_url_ttl,
                "min_part_size": MIN_PART, "max_parts": MAX_PARTS}

    async def notify(request: Request) -> JSONResponse:
        if not config.filer_token:
            raise NotFound("Storage notifications are not enabled on this backend (--filer-token-env).")
        body = await _json_body(request, NOTIFY_BODY_MAX)
        return JSONResponse(await run_in_threadpool(backend.notify, request.headers.get("authorization"), body))

    async def healthz(request: Request) -> JSONResponse:
        def check() -> None:
            with backend.db.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            backend.storage.check()
        try:
            await run_in_threadpool(check)
        except Exception as e:  # noqa: BLE001 - reported, not raised
            return JSONResponse({"ok": False, "error": type(e).__name__}, status_code=503)
        return JSONResponse({"ok": True})

    async def on_backend_error(request: Request, exc: BackendError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.user_message}, status_code=exc.status, headers=headers)

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        code = s3_code(exc)
        if code == "NoSuchUpload":
            return JSONResponse({"error": "The storage no longer has this upload (aborted or expired)."},
                                status_code=404)
        ref = uuid.uuid4().hex[:12]
        log.error("request %s %s failed (ref %s)", request.method, request.url.path, ref, exc_info=exc)
        if code:
            return JSONResponse({"error": f"The storage refused the request ({code}); ref {ref}."}, status_code=502)
        return JSONResponse({"error": f"The backend had an internal error; ref {ref}."}, status_code=500)

    routes = [
        Route("/s3/multipart", create, methods=["POST"]),
        Route("/s3/multipart", list_open, methods=["GET"]),
        Route("/s3/multipart/{upload_id}", list_parts, methods=["GET"]),
        Route("/s3/multipart/{upload_id}", abort, methods=["DELETE"]),
        Route("/s3/multipart/{upload_id}/batch", sign_batch, methods=["GET"]),
        Route("/s3/multipart/{upload_id}/complete", complete, methods=["POST"]),
        Route("/s3/multipart/{upload_id}/{part}", sign_one, methods=["GET"]),
        Route("/s3/object", get_object, methods=["GET"]),
        Route("/s3/device", whoami, methods=["GET"]),
        Route("/storage/notify", notify, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):  # noqa: ANN001, ANN202
        backend.deliverer.start()
        try:
            yield
        finally:
            backend.deliverer.stop()

    middleware = []
    if config.cors_origins:
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware

        # a browser page on one of these origins (Uppy's @uppy/aws-s3) may call the routes with its token
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                                     allow_methods=["GET", "POST", "DELETE", "OPTIONS"], allow_headers=["*"],
                                     max_age=600))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware,
                    exception_handlers={BackendError: on_backend_error, Exception: on_error})
    app.state.backend = backend
    return app
