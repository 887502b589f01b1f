"""The desktop's side of a team server: an S3 client whose every request goes through the backend.

``BackendS3Client`` answers the same calls as the boto3 client the engine drives in direct mode
(head_bucket, create/list/complete/abort multipart, upload_part, head/get object, the sweeper's
list of unfinished uploads), so the engine's guarantees — parts committed as acknowledged, ListParts
as the truth on resume, the local and remote proofs, pause, offline — hold unchanged. The differences:

- the key is the server's (``create_multipart_upload`` answers with it; the engine records it);
- each part is signed by the backend just before it is sent, then PUT straight to the storage with
  plain http.client; a ``403 Request has expired`` (a part that waited past the URL's lifetime)
  is signed again and resent at once, as Uppy does;
- the device token (keyring, or $STUDIO_BACKEND_TOKEN at run time) is the only secret here; the
  bucket's keys stay on the server.

Errors come out as the engine expects: botocore ``ClientError`` for the storage's own S3 errors,
and typed upload errors (offline, transient, permanent, no such upload) for the backend's answers.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
from datetime import datetime
from urllib.parse import quote, urlencode, urlparse
from xml.etree import ElementTree

from studio.uploader.errors import (NoSuchUploadError, OfflineError, PermanentUploadError, TransientUploadError,
                                    UploadError, classify)

log = logging.getLogger(__name__)
ENV_TOKEN = "STUDIO_BACKEND_TOKEN"
EXPIRED = "Request has expired"      # S3's message for a pre-signed URL past its lifetime (Uppy keys on it)
RESIGN_ATTEMPTS = 3
SEND_BLOCK = 1024 * 1024
ANSWER_MAX = 4 * 1024 * 1024         # no answer of the backend is larger (10,000 parts listed)


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise PermanentUploadError(f"{url!r} is not an http(s) URL.")
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    kwargs = {"context": ssl.create_default_context()} if u.scheme == "https" else {}
    conn = cls(u.hostname, u.port, timeout=timeout, blocksize=SEND_BLOCK, **kwargs)
    path = (u.path or "/") + (f"?{u.query}" if u.query else "")
    return conn, path


def _network_error(e: BaseException, what: str) -> UploadError:
    if isinstance(e, (ConnectionRefusedError, socket.gaierror)) or \
            (isinstance(e, OSError) and e.errno in (101, 113)):   # ENETUNREACH, EHOSTUNREACH
        return OfflineError(f"The {what} cannot be reached (no network, or the server is down).")
    if isinstance(e, (TimeoutError, socket.timeout)):
        return TransientUploadError(f"The connection to the {what} timed out.")
    if isinstance(e, ssl.SSLCertVerificationError):
        return PermanentUploadError(f"The {what}'s TLS certificate is not valid ({e.verify_message}).")
    return TransientUploadError(f"The connection to the {what} failed ({type(e).__name__}).")


def _s3_error(status: int, body: bytes, operation: str) -> Exception:
    """The storage's XML error as botocore's ClientError, so classify() reads it as in direct mode."""
    from botocore.exceptions import ClientError

    code, message = str(status), ""
    try:
        root = ElementTree.fromstring(body)
        code = root.findtext("Code") or code
        message = root.findtext("Message") or ""
    except ElementTree.ParseError:
        pass
    return ClientError({"Error": {"Code": code, "Message": message},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


class BackendS3Client:
    """Thread-safe: every request opens its own connection (parts go to the storage, not the backend)."""

    def __init__(self, base_url: str, token: str, *, read_timeout: float = 60, connect_timeout: float = 10):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = max(read_timeout, connect_timeout)

    # -- the backend's API
    def _api(self, method: str, path: str, query: dict | None = None, body: dict | None = None, *,
             missing_upload: bool = False):  # noqa: ANN202 - parsed JSON
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json",
                   "User-Agent": "ReelStudio-Desktop"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn, target = _connection(url, self.timeout)
        try:
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read(ANSWER_MAX + 1)
            status = resp.status
        except (OSError, http.client.HTTPException) as e:
            raise _network_error(e, "team server") from None
        finally:
            conn.close()
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = None
        if 200 <= status < 300 and answer is not None and len(raw) <= ANSWER_MAX:
            return answer
        said = (answer or {}).get("error") if isinstance(answer, dict) else None
        said = f" ({str(said)[:300]})" if said else ""
        if status == 401:
            raise PermanentUploadError("The team server refused this device's token (unknown or revoked)"
                                       f"{said}: ask its admin for a new one (`studio backend add-device`) and "
                                       "enter it in Settings → Destinations.")
        if status == 404 and missing_upload:
            raise NoSuchUploadError(f"The team server no longer knows this upload{said}.")
        if status in (408, 429) or status >= 500:
            raise TransientUploadError(f"The team server had a temporary problem ({status}){said}.",
                                       slow_down=status in (429, 503))
        if 200 <= status < 300:
            raise TransientUploadError("The team server's answer could not be read; trying again.")
        raise PermanentUploadError(f"The team server refused the request ({status}){said}.")

    def _upload_path(self, upload_id: str, tail: str = "") -> str:
        return f"/s3/multipart/{quote(upload_id, safe='')}{tail}"

    def whoami(self) -> dict:
        """{"device": {id, name}, "bucket", "prefix", "part_url_ttl", …}; raises UploadError."""
        return self._api("GET", "/s3/device")

    # -- what the engine calls (the boto3 names and shapes it uses)
    def head_bucket(self, Bucket: str) -> dict:  # noqa: N803 - boto3's parameter names
        self.whoami()
        return {}

    def create_multipart_upload(self, Bucket: str, Key: str, Metadata: dict | None = None,  # noqa: N803
                                ContentType: str = "application/octet-stream", **_ignored) -> dict:
        # Our own key (unique per job) as the client reference: a create repeated after a crash that came
        # before the upload id was committed resumes that upload on the server instead of orphaning it.
        meta = {**{k: str(v) for k, v in (Metadata or {}).items()}, "client_ref": Key}
        answer = self._api("POST", "/s3/multipart", body={"filename": Key.rsplit("/", 1)[-1], "type": ContentType,
                                                          "metadata": meta})
        if not isinstance(answer, dict) or not answer.get("uploadId") or not answer.get("key"):
            raise TransientUploadError("The team server's answer to a new upload could not be read.")
        return {"UploadId": answer["uploadId"], "Key": answer["key"], "Bucket": Bucket}

    def list_parts(self, Bucket: str, Key: str, UploadId: str, PartNumberMarker: int = 0,  # noqa: N803
                   MaxParts: int = 1000, **_ignored) -> dict:
        parts = self._api("GET", self._upload_path(UploadId), {"key": Key}, missing_upload=True)
        if not isinstance(parts, list):
            raise TransientUploadError("The team server's list of parts could not be read.")
        out = [{"PartNumber": int(p["PartNumber"]), "Size": int(p["Size"]), "ETag": str(p["ETag"])}
               for p in parts if int(p["PartNumber"]) > int(PartNumberMarker or 0)]
        return {"Parts": sorted(out, key=lambda p: p["PartNumber"]), "IsTruncated": False}

    def sign_part(self, key: str, upload_id: str, part_number: int) -> str:
        answer = self._api("GET", self._upload_path(upload_id, f"/{int(part_number)}"), {"key": key},
                           missing_upload=True)
        url = answer.get("url") if isinstance(answer, dict) else None
        if not isinstance(url, str) or urlparse(url).scheme not in ("http", "https"):
            raise TransientUploadError("The team server's signed URL could not be read.")
        return url

    def upload_part(self, Bucket: str, Key: str, UploadId: str, PartNumber: int, Body,  # noqa: N803, ANN001
                    ContentLength: int | None = None, **_ignored) -> dict:
        """Sign, then PUT the part's bytes to the storage. An expired URL is signed again and resent."""
        length = ContentLength if ContentLength is not None else len(Body)
        for attempt in range(RESIGN_ATTEMPTS):
            url = self.sign_part(Key, UploadId, PartNumber)
            if attempt and hasattr(Body, "seek"):
                Body.seek(0)
            status, headers, body = self._put(url, Body, length)
            if 200 <= status < 300:
                etag = headers.get("etag")
                if not etag:
                    raise TransientUploadError("The storage acknowledged a part without its ETag; resending it.")
                return {"ETag": etag}
            if status == 403 and EXPIRED.encode() in body:
                log.info("part %d: its signed URL expired before it was sent; signing it again", PartNumber)
                continue
            raise _s3_error(status, body, "UploadPart")
        raise TransientUploadError("The team server's signed URLs kept expiring before a part could be sent "
                                   "(is this computer's clock right, and --part-url-ttl long enough?).")

    def _put(self, url: str, body, length: int) -> tuple[int, dict, bytes]:  # noqa: ANN001 - bytes or a reader
        conn, target = _connection(url, self.timeout)
        try:
            conn.request("PUT", target, body=body, headers={"Content-Length": str(length),
                                                            "User-Agent": "ReelStudio-Desktop"})
            resp = conn.getresponse()
            data = resp.read(64 * 1024)
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        except (OSError, http.client.HTTPException) as e:
            raise _network_error(e, "storage") from None
        finally:
            conn.close()

    def complete_multipart_upload(self, Bucket: str, Key: str, UploadId: str,  # noqa: N803
                                  MultipartUpload: dict, **_ignored) -> dict:
        parts = [{"PartNumber": int(p["PartNumber"]), "ETag": p["ETag"]} for p in MultipartUpload["Parts"]]
        answer = self._api("POST", self._upload_path(UploadId, "/complete"), {"key": Key}, {"parts": parts},
                           missing_upload=True)
        return {"Location": (answer or {}).get("location"), "Key": Key, "ETag": (answer or {}).get("etag")}

    def abort_multipart_upload(self, Bucket: str, Key: str, UploadId: str, **_ignored) -> dict:  # noqa: N803
        try:
            self._api("DELETE", self._upload_path(UploadId), {"key": Key}, missing_upload=True)
        except NoSuchUploadError:
            pass   # gone already: aborted
        return {}

    def object_info(self, key: str) -> dict | None:
        """{"size", "etag", "url"} of a completed upload of this device, or None."""
        try:
            return self._api("GET", "/s3/object", {"key": key}, missing_upload=True)
        except NoSuchUploadError:
            return None

    def head_object(self, Bucket: str, Key: str, **_ignored) -> dict:  # noqa: N803
        info = self.object_info(Key)
        if info is None:
            raise _s3_error(404, b"", "HeadObject")
        return {"ContentLength": int(info["size"]), "ETag": info["etag"]}

    def get_object(self, Bucket: str, Key: str, **_ignored) -> dict:  # noqa: N803
        info = self.object_info(Key)
        if info is None:
            raise _s3_error(404, b"", "GetObject")
        conn, target = _connection(info["url"], self.timeout)
        try:
            conn.request("GET", target)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise _network_error(e, "storage") from None
        if resp.status != 200:
            body = resp.read(64 * 1024)
            conn.close()
            raise _s3_error(resp.status, body, "GetObject")
        return {"Body": resp, "ContentLength": int(resp.getheader("Content-Length") or 0)}

    def list_multipart_uploads(self, Bucket: str, **_ignored) -> dict:  # noqa: N803
        """This device's unfinished uploads (the backend lists only those)."""
        answer = self._api("GET", "/s3/multipart")
        uploads = []
        for u in (answer or {}).get("Uploads", []):
            when = u.get("Initiated")
            uploads.append({"Key": u["Key"], "UploadId": u["UploadId"],
                            "Initiated": datetime.fromisoformat(when) if when else None})
        return {"Uploads": uploads, "IsTruncated": False}


def probe(target, make_client) -> dict:  # noqa: ANN001 - targets.Target, () -> BackendS3Client
    """`studio targets test` for a team server: the token is accepted, an upload can be created, one part
    signed and sent straight to the storage from here, then the upload is aborted. Returns
    {"ok", "verdict", "code", "seconds"}."""
    import time

    t0 = time.monotonic()
    client = None
    created = None
    try:
        client = make_client()
        me = client.whoami()
        created = client.create_multipart_upload(Bucket=target.bucket, Key=".studio-test.bin",
                                                  ContentType="application/octet-stream")
        client.upload_part(Bucket=target.bucket, Key=created["Key"], UploadId=created["UploadId"], PartNumber=1,
                           Body=b"test", ContentLength=4)
    except Exception as e:  # noqa: BLE001 - every failure becomes a verdict
        err = classify(e, bucket=target.bucket)
        return {"ok": False, "code": type(err).__name__, "verdict": str(err), "seconds": time.monotonic() - t0}
    finally:
        if client is not None and created is not None:
            try:
                client.abort_multipart_upload(Bucket=target.bucket, Key=created["Key"], UploadId=created["UploadId"])
            except Exception:  # noqa: BLE001 - the backend's own clean-up catches a left-over test upload
                log.info("the test upload could not be aborted")
    return {"ok": True, "code": "ok", "seconds": time.monotonic() - t0,
            "verdict": f"Team server {target.backend_url} accepts this device ({me['device']['name']}) and the "
                       f"storage took a signed test part sent from this computer."}
