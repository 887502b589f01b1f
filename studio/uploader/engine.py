"""The multipart engine: plain Python, no Qt. Drives one job's multipart upload to the end.

create_multipart_upload / upload_part / list_parts / complete / abort are called directly (never
boto3's upload_file, which aborts the upload on failure). Each byte is read once: a part is read by
file offset into its lane's own buffer (memory stays at concurrency x part size), its checksum is
computed from that buffer and sent as a header (the server checks the bytes it gets against it),
the same buffer is the request body, and the whole file's sha256 is fed the same buffers in part
order by a thread of its own (hashlib releases the GIL) while the parts are on the wire. Each
acknowledged part is committed (by a committer thread, so no lane waits for the database) before
it counts.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import queue
import random
import re
import threading
import time
import zlib
from dataclasses import dataclass, replace
from typing import Callable

from studio.errors import StudioError
from studio.uploader.errors import (NoSuchUploadError, OfflineError, PermanentUploadError, SourceChangedError,
                                    TransientUploadError, UploadError, classify)
from studio.uploader.models import now_us
from studio.uploader.snapshot import refreeze, sha256_file
from studio.uploader.store import (CANCELLED, COMPLETED, IN_PROGRESS, PAUSED, PENDING, RETRYING, JobStore,
                                   Part, UploadJob)
from studio.uploader.targets import plan_part_size

log = logging.getLogger(__name__)
MD5_HEX = re.compile(r'^"?([0-9a-f]{32})"?$')
MULTI_ETAG = re.compile(r'^"?([0-9a-f]{32})-(\d+)"?$')


@dataclass
class RetryPolicy:
    attempts: int = 8          # per part, before the job fails (or pauses when the endpoint is gone)
    base: float = 0.5          # first backoff, seconds
    cap: float = 30.0          # longest backoff

    def delay(self, attempt: int) -> float:
        # "full jitter": spread retries so parallel parts do not hammer the server in step
        return random.uniform(0, min(self.cap, self.base * 2 ** attempt))


class SlowDown:
    """Shared by every job of a queue: a 503 SlowDown anywhere makes every part wait."""

    def __init__(self):
        self._until = 0.0
        self._penalty = 0.0
        self._lock = threading.Lock()

    def hit(self) -> None:
        with self._lock:
            self._penalty = min(30.0, max(0.5, self._penalty * 2))
            self._until = max(self._until, time.monotonic() + random.uniform(0.5, 1.0) * self._penalty)

    def ok(self) -> None:
        with self._lock:
            self._penalty *= 0.5

    def wait(self, stop: threading.Event | None = None) -> None:
        while True:
            left = self._until - time.monotonic()
            if left <= 0:
                return
            if stop is not None and stop.wait(min(left, 0.2)):
                return
            if stop is None:
                time.sleep(min(left, 0.2))


class Bandwidth:
    """Average bytes per second for one target: a part is sent once its bytes fit in the budget."""

    def __init__(self, limit: int):
        self.limit = limit
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, nbytes: int, stop: threading.Event | None = None) -> None:
        if self.limit <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + nbytes / self.limit
        delay = start - now
        if delay > 0:
            (stop.wait(delay) if stop is not None else time.sleep(delay))


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


READ_CHUNK = 1024 * 1024
MAX_LIST_PAGES = 10_002   # ListParts pages: S3 allows 10,000 parts; a page holds at least one
STOP_JOIN_S = 0.5         # on a stop, parts still on the wire after this are left (re-sent next run)


class _Sha256:
    def __init__(self):
        self.h = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self.h.update(data)

    def digest(self) -> bytes:
        return self.h.digest()

    def b64(self) -> str:
        return b64(self.digest())


class _Crc:
    def __init__(self, fn):  # noqa: ANN001 - (data, previous) -> int
        self.fn, self.value = fn, 0

    def update(self, data: bytes) -> None:
        self.value = self.fn(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")

    def b64(self) -> str:
        return b64(self.digest())


def _hasher(algorithm: str):  # noqa: ANN202 - _Sha256 | _Crc | None
    if algorithm == "SHA256":
        return _Sha256()
    if algorithm == "CRC32":
        return _Crc(zlib.crc32)
    if algorithm == "CRC32C":
        from awscrt import checksums  # target validation made sure it is installed

        return _Crc(checksums.crc32c)
    return None


def part_checksum(data: bytes, algorithm: str) -> str | None:
    h = _hasher(algorithm)
    if h is None:
        return None
    h.update(data)
    return h.b64()


def composite_checksum(part_checksums: list[str], algorithm: str) -> str | None:
    """S3's COMPOSITE checksum of a multipart object: the checksum of the parts' checksums, "-N"."""
    h = _hasher(algorithm)
    if h is None:
        return None
    h.update(b"".join(base64.b64decode(c) for c in part_checksums))
    return f"{h.b64()}-{len(part_checksums)}"


class PartHash:
    """The digests that identify a part: its checksum in the target's algorithm (also its sha256 when
    that is SHA256), or its MD5 when the target sends no checksum. One hash per byte on the hot path;
    the MD5 is added only where it is the one thing to compare with (``md5=True``)."""

    def __init__(self, algorithm: str, *, md5: bool = False):
        self.algo = _hasher(algorithm)
        self.md5 = hashlib.md5() if md5 or self.algo is None else None

    def update(self, data: bytes) -> None:
        if self.algo is not None:
            self.algo.update(data)
        if self.md5 is not None:
            self.md5.update(data)

    def result(self) -> "PartDigest":
        algo = self.algo
        return PartDigest(algo.b64() if algo is not None else None,
                          self.md5.hexdigest() if self.md5 is not None else None,
                          algo.digest().hex() if isinstance(algo, _Sha256) else None)


@dataclass(frozen=True)
class PartDigest:
    checksum: str | None   # base64, in the target's algorithm (None for NONE)
    md5: str | None        # hex, when computed
    sha256: str | None     # hex, when the algorithm is SHA256

    def identity(self) -> str | None:
        return self.checksum or self.md5


@dataclass
class RunContext:
    """What the queue hands the engine for one job."""

    store: JobStore
    client: object                          # boto3 S3 client
    stop: threading.Event                   # app shutting down: leave the job resumable
    slowdown: SlowDown
    bandwidth: Bandwidth
    concurrency: int = 4
    retry: RetryPolicy = None               # type: ignore[assignment]
    on_progress: Callable[[str, int, int], None] | None = None   # (job id, bytes acknowledged, total)
    on_state: Callable[[str, str], None] | None = None           # (job id, state)
    is_reachable: Callable[[], bool] | None = None
    control_poll: float = 0.3               # seconds between checks of pause/cancel from elsewhere
    trailer_checksums: bool = True          # the target's setting; parts carry their checksum in a header
                                            # either way (computed first, from the buffer that is sent)
    bytes_sent: int = 0                     # body bytes handed to the network by this process
    on_restart: Callable[[str, str], None] | None = None         # (job id, why): progress starts again from 0
    part_size_wanted: int = 0               # the target's part size, for re-planning a changed file
    list_parts_page: int = 1000             # MaxParts of one ListParts page
    webhook_row: Callable[[UploadJob], object] | None = None    # the outbox row committed with COMPLETED

    def __post_init__(self):
        if self.retry is None:
            self.retry = RetryPolicy()
        self._sent_lock = threading.Lock()

    def count_sent(self, n: int) -> None:
        with self._sent_lock:
            self.bytes_sent += n


class Interrupted(StudioError):
    """The job was paused/cancelled (by the user, from any process) or the app is stopping."""


class JobEngine:
    """Uploads one job. ``run()`` returns normally when COMPLETED, raises UploadError or Interrupted.

    COMPLETED means proven: every part's checksums were computed here from the very buffer sent and
    matched the server's answers (the server refuses a part whose bytes do not hash to the checksum
    sent with it); the whole-file sha256 is that of the same buffers in order (parts of an earlier
    run are read again and must still match their digests); nothing wrote to the staged file while it
    was read (size, mtime, ctime, inode: a write seen while parts go stops the upload at once; one
    seen only at the end makes one full re-read decide), and a change restarts the job with a
    sentence; the sha256 equals the one recorded, when one was; after completion the object's size
    and composite checksum (or multipart ETag) equal what the local part digests give, or, where the
    server offers neither, the object read back hashes to it.
    """

    def __init__(self, job: UploadJob, ctx: RunContext):
        self.job = job
        self.ctx = ctx
        self.s3 = ctx.client
        self._last_poll = 0.0
        self._last_state = None
        self._fd_value: int | None = None
        self._fd_lock = threading.Lock()
        self._progress_lock = threading.Lock()
        self._acked = 0
        self._abandon = threading.Event()   # set on the first error or a stop: no part starts after it
        self._differs: list[int] = []       # acknowledged parts whose bytes changed (found while re-reading)

    # -- control
    def _check(self) -> None:
        if self.ctx.stop.is_set():
            raise Interrupted("stopping")
        now = time.monotonic()
        if now - self._last_poll >= self.ctx.control_poll:
            self._last_poll = now
            state = self.ctx.store.state(self.job.id)
            if state in (PAUSED, CANCELLED) or state is None:
                raise Interrupted(state or "deleted")

    def _set_state(self, state: str) -> None:
        if state != self._last_state and self.ctx.store.update(self.job.id, state=state,
                                                               only_if=(PENDING, IN_PROGRESS, RETRYING)):
            self._last_state = state
            if self.ctx.on_state:
                self.ctx.on_state(self.job.id, state)

    def _progress(self, done: int) -> None:
        if self.ctx.on_progress:
            self.ctx.on_progress(self.job.id, max(0, min(done, self.job.size)), self.job.size)

    # -- the whole job
    def run(self) -> UploadJob:
        self._set_state(IN_PROGRESS)
        self._check_snapshot()
        self._check_bucket()
        if not self.job.upload_id:
            self._create()
            done = {}
        else:
            try:
                done = self._reconcile()
            except NoSuchUploadError:
                if self._local_proof(raise_on_change=False) and self._remote_proof(read_back_ok=True):
                    return self._finish()
                self._restart("The storage no longer has the unfinished upload (aborted or expired), and no "
                              "object there is proven to be this file; it was started again from zero.")
                done = {}
        self._progress(sum(p.size for p in done.values()))
        before = self._fingerprint()
        digest = self._send_missing(done, before)
        self._prove_local(before, digest)
        self._complete()
        if not self._remote_proof(read_back_ok=True, strict=True):
            raise PermanentUploadError("The object in the storage is not the file that was sent (its checksum "
                                       "differs from the parts' checksums); retry the upload.")
        return self._finish()

    # -- the staged file: changed by content, never by mtime alone
    def _check_snapshot(self) -> None:
        self.close()   # a new run reads the staged file as it is now
        path = self.job.staging_path
        try:
            st = os.stat(path)
        except OSError:
            raise PermanentUploadError("The frozen copy of the file to upload is gone from the staging folder; "
                                       "retry the upload to freeze it again.") from None
        src = self._source_stat()
        if src is not None and (src.st_size, src.st_mtime_ns) != (self.job.source_size, self.job.source_mtime_ns):
            linked = (src.st_ino, src.st_dev) == (st.st_ino, st.st_dev)   # the job's link is the original
            if linked and src.st_size == self.job.size and self.job.sha256 is None:
                # The staged file is the original itself: its bytes are whatever it holds now. The parts
                # already sent are read again and checked against their digests (a change restarts).
                log.info("job %s: the original was touched or written to after it was queued; uploading what "
                         "it holds now", self.job.id)
                self.ctx.store.update(self.job.id, source_mtime_ns=src.st_mtime_ns, mtime_ns=src.st_mtime_ns)
            elif src.st_size == self.job.size and self._holds_queued_bytes(self.job.source_path):
                log.info("job %s: the original was touched but holds the same bytes; resuming", self.job.id)
                self.ctx.store.update(self.job.id, source_mtime_ns=src.st_mtime_ns, source_size=src.st_size,
                                      **({"mtime_ns": src.st_mtime_ns} if linked else {}))
            else:
                snap = refreeze(self.job)
                self._replan(snap.size, snap.sha256, snap.mtime_ns, source_size=snap.source_size,
                             source_mtime_ns=snap.source_mtime_ns)
                self._restart("The original file changed after it was queued; the upload started again from "
                              "zero with its new content.")
            self.job = self.ctx.store.get(self.job.id)
            return
        if st.st_size != self.job.size or st.st_mtime_ns != self.job.mtime_ns:
            if st.st_size == self.job.size and self._staged_still_queued(path, src):
                log.info("job %s: the staged file was touched but holds the same bytes; resuming", self.job.id)
                self.ctx.store.update(self.job.id, mtime_ns=st.st_mtime_ns)
            elif not self._adopt_new_content():
                self._restart("The file changed after it was queued; the upload started again from zero with "
                              "its new content.")
            self.job = self.ctx.store.get(self.job.id)

    def _holds_queued_bytes(self, path: str) -> bool:
        """Does ``path`` (the user's original) hold the bytes queued? By the sha256 taken when one was,
        else by comparing it with the frozen copy byte for byte."""
        if self.job.sha256 is not None:
            return sha256_file(path) == self.job.sha256
        return _same_bytes(path, self.job.staging_path)

    def _staged_still_queued(self, path: str, src: os.stat_result | None) -> bool:
        """The staged file was touched (its size is the same): are its bytes still the queued ones? By the
        sha256 when one was taken, else against the original it was copied from; an export of the app's
        own has no other copy: its acknowledged parts are checked against their digests as it is read."""
        if self.job.sha256 is not None:
            return sha256_file(path) == self.job.sha256
        if src is not None:
            return _same_bytes(self.job.source_path, path)
        return True

    def _fingerprint(self) -> tuple | None:
        """What any write to the staged file changes (ctime cannot be set back by a program), and its
        number of names (see _untouched)."""
        try:
            st = os.fstat(self._fd())
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_nlink

    def _untouched(self, before: tuple | None) -> bool:
        """Nothing wrote to the staged file since ``before``. A name added or removed (the user's original,
        linked, deleted or replaced by a new file) changes its ctime and number of links, not its bytes."""
        now = self._fingerprint()
        if before is None or now is None:
            return False
        bytes_kept = (now[0], now[1], now[3]) == (before[0], before[1], before[3])   # size, mtime, inode
        return now == before or (bytes_kept and now[4] != before[4])

    def _source_stat(self) -> os.stat_result | None:
        """The user's original, when the job uploads its own link to it or a private copy of it (None
        otherwise: an export's link, a post's file)."""
        job = self.job
        if not job.owns_staging or job.source_size is None or job.source_path == job.staging_path:
            return None
        try:
            return os.stat(job.source_path)
        except OSError:
            return None   # the original is gone: the frozen copy is still what was queued

    def _adopt_new_content(self) -> bool:
        """The staged bytes changed: freeze the user's original again when there is one, else take the
        staged file as it is now; a new fingerprint and part size. Returns True when the fresh copy of
        the original holds the very bytes queued (the staged copy alone was damaged): nothing to restart."""
        src = self._source_stat()
        if src is not None:
            snap = refreeze(self.job)
            self.close()
            if snap.size == self.job.size and self.job.sha256 is not None and \
                    sha256_file(snap.path) == self.job.sha256:
                log.warning("job %s: the staged copy was damaged; copied again from the original", self.job.id)
                self.ctx.store.update(self.job.id, mtime_ns=snap.mtime_ns, source_size=snap.source_size,
                                      source_mtime_ns=snap.source_mtime_ns)
                self.job = self.ctx.store.get(self.job.id)
                return True
            self._replan(snap.size, snap.sha256, snap.mtime_ns, source_size=snap.source_size,
                         source_mtime_ns=snap.source_mtime_ns)
            return False
        st = os.stat(self.job.staging_path)
        self._replan(st.st_size, None, st.st_mtime_ns)   # its sha256: from the bytes sent next
        return False

    def _replan(self, size: int, sha256: str | None, mtime_ns: int, **extra) -> None:
        """A new content: new fingerprint, a part size planned for the new size, old upload aborted."""
        self.close()
        if self.job.upload_id:
            self._abort_quietly(self.job.upload_id)
        wanted = self.ctx.part_size_wanted or self.job.part_size
        self.ctx.store.update(self.job.id, size=size, sha256=sha256, mtime_ns=mtime_ns,
                              part_size=plan_part_size(size, wanted), **extra)
        self.job = self.ctx.store.get(self.job.id)

    def _check_bucket(self) -> None:
        # Some S3-compatible servers create missing buckets on the fly; ask first so a typo fails clearly.
        self._call(lambda: self.s3.head_bucket(Bucket=self.job.bucket))

    def _create(self) -> None:
        args = {"Bucket": self.job.bucket, "Key": self.job.key,
                "ContentType": self.job.content_type or _content_type(self.job.key)}
        if self.job.cache_control:
            args["CacheControl"] = self.job.cache_control
        if self.job.sha256:   # known before the first byte only when an earlier run computed it
            args["Metadata"] = {"sha256": self.job.sha256}
        if self.job.checksum_algorithm != "NONE":
            args["ChecksumAlgorithm"] = self.job.checksum_algorithm
        intent = self.ctx.store.record_intent(self.job)   # the sweeper knows it is ours even after a crash
        resp = self._call(lambda: self.s3.create_multipart_upload(**args))
        if resp.get("Key", self.job.key) != self.job.key:
            # a team server chooses the key (studio.uploader.backend_client); every later call uses it
            self.ctx.store.update(self.job.id, key=resp["Key"])
        # Committed before the first part is sent: a crash from here on resumes this upload.
        self.ctx.store.record_created(intent, self.job.id, resp["UploadId"])
        self.job = self.ctx.store.get(self.job.id)
        log.info("job %s: multipart upload created", self.job.id)

    def _restart(self, notice: str) -> None:
        """From zero, and said so: the job's notice, and the progress meters start again."""
        log.warning("job %s: %s", self.job.id, notice)
        self.ctx.store.drop_parts(self.job.id)
        self.ctx.store.update(self.job.id, upload_id=None, notice=notice)
        self.job = self.ctx.store.get(self.job.id)
        if self.ctx.on_restart:
            self.ctx.on_restart(self.job.id, notice)
        self._progress(0)
        self._create()

    def _list_server_parts(self) -> dict[int, dict]:
        """Every page of ListParts. A server whose marker does not advance is refused with a sentence."""
        parts, marker = {}, 0
        page = max(1, int(self.ctx.list_parts_page))
        for _ in range(MAX_LIST_PAGES):
            resp = self._call(lambda: self.s3.list_parts(Bucket=self.job.bucket, Key=self.job.key,
                                                         UploadId=self.job.upload_id, PartNumberMarker=marker,
                                                         MaxParts=page))
            for p in resp.get("Parts", []):
                parts[int(p["PartNumber"])] = p
            if not resp.get("IsTruncated"):
                return parts
            try:
                nxt = int(resp.get("NextPartNumberMarker"))
            except (TypeError, ValueError):
                nxt = None
            if nxt is None or nxt <= marker:
                raise PermanentUploadError(
                    "The storage's list of uploaded parts is broken (it says there are more parts but does not "
                    "say where the next page starts); this storage cannot resume uploads safely. Cancel and "
                    "retry the upload, or use another storage.")
            marker = nxt
        raise PermanentUploadError("The storage's list of uploaded parts never ends; this storage cannot resume "
                                   "uploads safely. Cancel and retry the upload, or use another storage.")

    def _reconcile(self) -> dict[int, Part]:
        """ListParts is the truth: keep local parts the server has, adopt server parts we can verify."""
        server = self._list_server_parts()
        local = self.ctx.store.parts(self.job.id)
        gone = [n for n, p in local.items()
                if n not in server or _etag(server[n]["ETag"]) != _etag(p.etag) or server[n]["Size"] != p.size]
        if gone:
            log.warning("job %s: %d acknowledged parts are not on the server; resending them", self.job.id, len(gone))
            self.ctx.store.drop_parts(self.job.id, gone)
        for n, sp in server.items():
            if n in local and n not in gone or n > self.job.part_count:
                continue
            offset, length = self.job.part_range(n)
            if sp["Size"] != length:
                continue
            # Acknowledged by the server but the crash came before our commit: adopt it if it is ours.
            d = self._digest_part(offset, length, md5=True)
            if _etag(sp["ETag"]) == d.md5:
                self.ctx.store.add_part(self.job.id, Part(n, length, sp["ETag"], d.checksum, d.md5, d.sha256))
        return self.ctx.store.parts(self.job.id)

    def _fd(self) -> int:
        with self._fd_lock:   # part threads share one descriptor (pread needs no file position)
            if self._fd_value is None:
                self._fd_value = os.open(self.job.staging_path, os.O_RDONLY)
            return self._fd_value

    _keep_fd = False

    def close(self) -> None:
        with self._fd_lock:
            if self._fd_value is not None and not self._keep_fd:
                os.close(self._fd_value)
                self._fd_value = None

    # -- parts
    def _send_missing(self, done: dict[int, Part], before: tuple | None) -> str:
        """Every part in order, by ``concurrency`` lanes: a missing part is read into the lane's buffer,
        hashed and sent; an acknowledged one (a resumed upload) is read and checked against its recorded
        digests. The whole file's sha256 is fed the same buffers in part order, so it is the sha256 of the
        bytes sent. Returns it (hex). This thread watches for pause/cancel, the first error, and a write
        to the staged file (its fingerprint is no longer ``before``: a user's original, linked, written
        to in place), which stops the upload at once and starts it again with the new content."""
        numbers = iter(range(1, self.job.part_count + 1))
        self._acked = sum(p.size for p in done.values())
        self._differs = []   # acknowledged parts whose bytes are no longer those sent
        take_lock = threading.Lock()
        errors: list[BaseException] = []
        finished = threading.Semaphore(0)
        whole = _InOrderSha256(self._abandon)
        committer = _Committer(self)

        def lane() -> None:
            buf = None
            try:
                while not self._abandon.is_set():
                    with take_lock:
                        n = next(numbers, None)
                        if n is None:
                            return
                        offset, length = self.job.part_range(n)
                        if buf is None or len(buf) != length:
                            buf = bytearray(length)
                        # read as the part is taken, so the whole-file hash never waits behind a lane
                        self._read_part(buf, offset)
                    whole.put(n, buf)
                    self._drop_cached(offset, length)
                    if n in done:
                        self._check_acknowledged(done[n], buf)
                    else:
                        committer.put(self._send_part(n, buf))
                    if not whole.wait_hashed(n):   # the buffer is reused for the next part
                        return
            except BaseException as e:  # noqa: BLE001 - the first error wins; the others drain
                errors.append(e)
                self._abandon.set()
            finally:
                finished.release()

        threads = [threading.Thread(target=lane, name=f"part-{i}", daemon=True)
                   for i in range(max(1, min(self.ctx.concurrency, self.job.part_count)))]
        for t in threads:
            t.start()
        running, written = len(threads), False
        try:
            while running:
                if finished.acquire(timeout=self.ctx.control_poll):
                    running -= 1
                if committer.error is not None:
                    self._abandon.set()
                self._check()
                if before is not None and not self._untouched(before):
                    written = True
                    self._abandon.set()
                    break
        except BaseException:
            self._abandon.set()   # parts already on the wire finish, and are kept if acknowledged
            raise
        finally:
            stopping = self.ctx.stop.is_set()
            deadline = time.monotonic() + STOP_JOIN_S
            for t in threads:
                t.join(timeout=None if not stopping else max(0.0, deadline - time.monotonic()))
            if any(t.is_alive() for t in threads):
                # A stop with parts still on the wire: they are abandoned (re-sent next run). Their
                # descriptor stays open, so a reused fd number can never feed them another file.
                self._keep_fd = True
            # what was acknowledged is committed before this returns (a kill before that: the next
            # run adopts those parts from ListParts)
            committer.close(None if not stopping else max(STOP_JOIN_S, deadline - time.monotonic()))
            whole.close()
        if written:
            self._changed_while_uploading(None)
        for e in (*errors, committer.error):
            if e is not None:
                raise e
        digest = whole.hexdigest(self.job.part_count)
        if digest is None:
            raise TransientUploadError("Some parts are still missing; the upload will continue.")
        return digest

    def _read_part(self, buf: bytearray, offset: int) -> None:
        view, got = memoryview(buf), 0
        while got < len(buf):
            n = os.preadv(self._fd(), [view[got:]], offset + got)
            if n <= 0:
                raise SourceChangedError("The staged file became shorter while uploading.")
            got += n

    def _drop_cached(self, offset: int, length: int) -> None:
        """A user's file (the job's link to it, or a private copy) is read once, into the lane's buffer: its
        pages leave the page cache as they are read, while parts are on the wire, rather than filling it
        with a file read once (or, for a copy, all at once when it is deleted at the end). Its pages are
        clean (a copy was fsynced when frozen), so nothing is written."""
        job = self.job
        if not (job.owns_staging and job.source_size is not None and job.source_path != job.staging_path):
            return   # an export's link: the export stays and may be uploaded again
        advise = getattr(os, "posix_fadvise", None)
        if advise is not None:
            try:
                advise(self._fd(), offset, length, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass   # a hint only

    def _check_acknowledged(self, part: Part, buf: bytearray) -> None:
        """A part sent by an earlier run: do the bytes there now still have its digests?"""
        h = PartHash(self.job.checksum_algorithm, md5=not part.checksum)
        h.update(buf)
        d = h.result()
        same = (part.checksum == d.checksum) if part.checksum else (part.md5 == d.md5)
        if not same or part.size != len(buf):
            self._differs.append(part.number)

    def _commit_parts(self, parts: list[Part]) -> None:
        """In the committer thread: recorded (one transaction for the parts acknowledged together), then
        counted part by part (callbacks see one ordered, growing sequence, one step per part)."""
        self.ctx.store.add_parts(self.job.id, parts)
        with self._progress_lock:
            for p in parts:
                self._acked += p.size
                self._progress(self._acked)
            self._set_state(IN_PROGRESS)

    def _send_part(self, n: int, buf: bytearray) -> Part:
        """One part from its buffer: the checksum computed here from those bytes goes in a header, so the
        server refuses the part unless what it received hashes to it; its answer is checked too."""
        offset, length = self.job.part_range(n)
        algo = self.job.checksum_algorithm
        h = PartHash(algo)
        h.update(buf)
        sent = h.result()
        attempt = 0
        while True:
            if self._abandon.is_set() or self.ctx.stop.is_set():
                raise Interrupted("abandoned")
            self.ctx.slowdown.wait(self.ctx.stop)
            self.ctx.bandwidth.acquire(length, self.ctx.stop)
            args = {"Bucket": self.job.bucket, "Key": self.job.key, "UploadId": self.job.upload_id,
                    "PartNumber": n, "Body": buf, "ContentLength": length}
            if algo != "NONE":
                args["Checksum" + algo] = sent.checksum
            try:
                self.ctx.count_sent(length)
                resp = self.s3.upload_part(**args)
                sent = self._check_part_answer(resp, sent, algo, buf)
                self.ctx.slowdown.ok()
                return Part(n, length, resp["ETag"], sent.checksum, sent.md5, sent.sha256)
            except Exception as e:  # noqa: BLE001 - classified below
                err = classify(e, bucket=self.job.bucket)
                if not isinstance(err, TransientUploadError):
                    raise err from None
                attempt += 1
                if err.slow_down:
                    self.ctx.slowdown.hit()
                if attempt >= self.ctx.retry.attempts:
                    raise self._exhausted(err) from None
                log.info("job %s part %d: %s (attempt %d); retrying", self.job.id, n, err, attempt)
                self._set_state(RETRYING)
                if self.ctx.stop.wait(self.ctx.retry.delay(attempt)):
                    raise Interrupted("stopping") from None

    def _check_part_answer(self, resp: dict, sent: PartDigest, algo: str, buf: bytearray) -> PartDigest:
        """The server's checksum and ETag (a plain MD5), where it gives them, must be those of what we sent.
        A server that answers with neither checksum nor an MD5 we computed gets its MD5 checked against
        the MD5 of the very buffer sent."""
        etag = resp.get("ETag") or ""
        remote = resp.get("Checksum" + algo) if algo != "NONE" else None
        if remote and sent.checksum and remote != sent.checksum:
            raise TransientUploadError("A part arrived damaged (the storage's checksum of it differs); resending it.")
        if MD5_HEX.match(etag) and sent.md5 is None and not remote:
            again = PartHash(algo, md5=True)
            again.update(buf)
            sent = again.result()
        if MD5_HEX.match(etag) and sent.md5 is not None and _etag(etag) != sent.md5:
            raise TransientUploadError("A part arrived damaged (the storage's MD5 of it differs); resending it.")
        return sent

    def _digest_part(self, offset: int, length: int, *, md5: bool = False, whole=None) -> PartDigest:  # noqa: ANN001
        """The part's digests read from the staged file in small chunks (memory stays flat); ``whole``
        (a hashlib object) is fed the same bytes."""
        h = PartHash(self.job.checksum_algorithm, md5=md5)
        fd, pos, end = self._fd(), offset, offset + length
        while pos < end:
            chunk = os.pread(fd, min(READ_CHUNK, end - pos), pos)
            if not chunk:
                if whole is not None:
                    break
                raise SourceChangedError("The staged file became shorter while uploading.")
            h.update(chunk)
            if whole is not None:
                whole.update(chunk)
            pos += len(chunk)
        return h.result()

    def _exhausted(self, err: TransientUploadError) -> UploadError:
        if isinstance(err, OfflineError) or (self.ctx.is_reachable and not self.ctx.is_reachable()):
            return OfflineError("The storage cannot be reached; the upload resumes by itself when it is back.")
        return TransientUploadError(f"{err} It kept failing after {self.ctx.retry.attempts} attempts; "
                                    "retry the upload later.")

    def _call(self, fn: Callable[[], dict]) -> dict:
        """A control request (create/list/complete) with the same retry policy as parts."""
        attempt = 0
        while True:
            self._check()
            self.ctx.slowdown.wait(self.ctx.stop)
            try:
                return fn()
            except Exception as e:  # noqa: BLE001 - classified below
                err = classify(e, bucket=self.job.bucket)
                if not isinstance(err, TransientUploadError):
                    raise err from None
                if err.slow_down:
                    self.ctx.slowdown.hit()
                attempt += 1
                if attempt >= self.ctx.retry.attempts:
                    raise self._exhausted(err) from None
                self._set_state(RETRYING)
                if self.ctx.stop.wait(self.ctx.retry.delay(attempt)):
                    raise Interrupted("stopping") from None

    # -- the local proof: the staged file still holds exactly the bytes the parts were sent from
    def _prove_local(self, before: tuple | None, digest: str) -> None:
        """After the last part: ``digest`` is the sha256 of the bytes read and sent (and of the recorded
        parts re-read). Those are the file's when nothing wrote to it meanwhile (size, mtime, ctime and
        inode unchanged), every earlier part still matched its digests and the sha256 is the one queued
        (when one was): then no second read is needed. Otherwise the one full re-read decides."""
        parts = self.ctx.store.parts(self.job.id)
        if len(parts) != self.job.part_count:
            raise TransientUploadError("Some parts are still missing; the upload will continue.")
        unchanged = self._untouched(before) and not self._differs
        if unchanged and self.job.sha256 in (None, digest):
            if self.job.sha256 is None:
                self.ctx.store.update(self.job.id, sha256=digest)
                self.job = self.ctx.store.get(self.job.id)
            return
        self._local_proof(sent=digest)

    def _local_proof(self, *, raise_on_change: bool = True, sent: str | None = None) -> bool:
        """One sequential read: each part's digests equal those of the bytes sent, and their sha256 is the
        job's. When not, the file changed during the upload: start again cleanly (SourceChangedError)."""
        parts = self.ctx.store.parts(self.job.id)
        if len(parts) != self.job.part_count:
            if not raise_on_change:
                return False
            raise TransientUploadError("Some parts are still missing; the upload will continue.")
        whole = hashlib.sha256()
        differs = []
        for n in range(1, self.job.part_count + 1):
            offset, length = self.job.part_range(n)
            d = self._digest_part(offset, length, whole=whole, md5=not parts[n].checksum)
            p = parts[n]
            same = (p.checksum == d.checksum) if p.checksum else (p.md5 == d.md5)
            if not same or p.size != length:
                differs.append(n)
        try:
            size_now = os.fstat(self._fd()).st_size
        except OSError:
            size_now = -1
        digest = whole.hexdigest()
        expected = self.job.sha256 or sent or digest
        if not differs and digest == expected and size_now == self.job.size:
            if self.job.sha256 is None:
                self.ctx.store.update(self.job.id, sha256=digest)
                self.job = self.ctx.store.get(self.job.id)
            return True
        if not raise_on_change:
            return False
        self._changed_while_uploading(differs)

    def _changed_while_uploading(self, differs: list[int] | None) -> None:
        """The staged bytes changed during the upload (``differs``: the parts found changed, None when not
        known). Raises SourceChangedError after the job was set to start again cleanly."""
        if self._adopt_new_content():
            # the original still holds the queued bytes: parts that differ are sent again, the rest kept
            # (all of them checked against their digests on the next run when which ones is not known)
            if differs:
                self.ctx.store.drop_parts(self.job.id, differs)
            raise SourceChangedError("The staged copy was damaged; its changed parts are sent again.")
        self._restart("The file changed while it was uploading; the upload started again from zero with its "
                      "new content.")
        raise SourceChangedError("The file changed while it was uploading; it is being uploaded again.")

    # -- completion
    def _complete(self) -> None:
        parts = self.ctx.store.parts(self.job.id)
        if len(parts) != self.job.part_count:
            raise TransientUploadError("Some parts are still missing; the upload will continue.")
        body = []
        for n in sorted(parts):
            entry = {"PartNumber": n, "ETag": parts[n].etag}
            if parts[n].checksum and self.job.checksum_algorithm != "NONE":
                entry["Checksum" + self.job.checksum_algorithm] = parts[n].checksum
            body.append(entry)
        attempt = 0
        while True:
            self._check()
            try:
                self.s3.complete_multipart_upload(Bucket=self.job.bucket, Key=self.job.key,
                                                  UploadId=self.job.upload_id, MultipartUpload={"Parts": body})
                return
            except Exception as e:  # noqa: BLE001 - a lost response may hide a success
                err = classify(e, bucket=self.job.bucket)
                if isinstance(err, (NoSuchUploadError, TransientUploadError)) and self._remote_proof():
                    log.info("job %s: completion response lost, but the object is there and matches", self.job.id)
                    return
                if isinstance(err, NoSuchUploadError):
                    raise err from None
                if not isinstance(err, TransientUploadError):
                    raise err from None
                attempt += 1
                if attempt >= self.ctx.retry.attempts:
                    raise self._exhausted(err) from None
                if self.ctx.stop.wait(self.ctx.retry.delay(attempt)):
                    raise Interrupted("stopping") from None

    def _head(self, *, checksums: bool = False) -> dict | None:
        from botocore.exceptions import ClientError

        extra = {"ChecksumMode": "ENABLED"} if checksums else {}
        try:
            return self.s3.head_object(Bucket=self.job.bucket, Key=self.job.key, **extra)
        except ClientError as e:
            if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise

    def _remote_proof(self, *, read_back_ok: bool = True, strict: bool = False) -> bool:
        """Is the stored object the bytes of our parts? Size, then the server's composite checksum and
        multipart ETag against those computed from the local part digests (every one the server offers
        must match); where it offers neither, the object read back must hash to the job's sha256.

        ``strict``: errors of the storage propagate (after retries) instead of reading as "no".
        """
        try:
            head = self._call(lambda: self._head(checksums=True) or {}) if strict else self._head(checksums=True)
        except (UploadError, Interrupted):
            if strict:
                raise
            return False
        except Exception:  # noqa: BLE001 - unknown counts as "not proven"
            return False
        if not head or head.get("ContentLength") != self.job.size:
            return False
        parts = [p for _n, p in sorted(self.ctx.store.parts(self.job.id).items())]
        if len(parts) != self.job.part_count:
            parts = []
        checked = False
        algo = self.job.checksum_algorithm
        remote = head.get("Checksum" + algo) if algo != "NONE" else None
        if remote and "-" in remote and parts and all(p.checksum for p in parts):
            if remote != composite_checksum([p.checksum for p in parts], algo):
                log.warning("job %s: the object's composite checksum differs from our parts'", self.job.id)
                return False
            checked = True
        m = MULTI_ETAG.match(head.get("ETag", ""))
        if m and parts and all(p.md5 for p in parts):
            want = hashlib.md5(b"".join(bytes.fromhex(p.md5) for p in parts)).hexdigest()
            if m.group(1) != want or int(m.group(2)) != len(parts):
                log.warning("job %s: the object's ETag differs from our parts'", self.job.id)
                return False
            checked = True
        if checked:
            return True
        return read_back_ok and self._read_back_matches()

    def _read_back_matches(self) -> bool:
        """The last resort of a server without checksums or multipart ETags: read it and hash it."""
        h = hashlib.sha256()
        try:
            body = self.s3.get_object(Bucket=self.job.bucket, Key=self.job.key)["Body"]
            for chunk in iter(lambda: body.read(READ_CHUNK), b""):
                h.update(chunk)
                if self.ctx.stop.is_set():
                    return False
        except Exception:  # noqa: BLE001 - not proven
            return False
        return h.hexdigest() == self.job.sha256

    def _finish(self) -> UploadJob:
        now = now_us()
        outbox = self.ctx.webhook_row(replace(self.job, verified_us=now)) if self.ctx.webhook_row else None
        status = ("pending" if outbox.signed else "pending, unsigned") if outbox is not None else None
        if not self.ctx.store.complete(self.job.id, outbox, error=None, paused_reason=None, completed_us=now,
                                       verified_us=now, webhook_status=status):
            raise Interrupted(self.ctx.store.state(self.job.id) or "deleted")   # cancelled at the last moment
        self._progress(self.job.size)
        if self.ctx.on_state:
            self.ctx.on_state(self.job.id, COMPLETED)
        self.job = self.ctx.store.get(self.job.id)
        return self.job

    def _abort_quietly(self, upload_id: str) -> None:
        try:
            self.s3.abort_multipart_upload(Bucket=self.job.bucket, Key=self.job.key, UploadId=upload_id)
        except Exception as e:  # noqa: BLE001 - the sweeper catches what this misses
            log.info("abort of an old upload failed (%s); the sweeper will retry", type(e).__name__)


class _InOrderSha256:
    """The whole file's sha256, fed each part's buffer in part order (lanes hand them in as they read
    them) by a thread of its own, so the hashing overlaps the sending."""

    def __init__(self, abandon: threading.Event):
        self._h = hashlib.sha256()
        self._next = 1
        self._pending: dict[int, bytearray] = {}
        self._cv = threading.Condition()
        self._closed = False
        self._abandon = abandon
        self._thread = threading.Thread(target=self._loop, name="whole-sha256", daemon=True)
        self._thread.start()

    def put(self, n: int, buf: bytearray) -> None:
        with self._cv:
            self._pending[n] = buf
            self._cv.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while self._next not in self._pending and not self._closed:
                    self._cv.wait()
                buf = self._pending.pop(self._next, None)
                if buf is None:
                    return
            self._h.update(buf)
            with self._cv:
                self._next += 1
                self._cv.notify_all()

    def wait_hashed(self, n: int) -> bool:
        """Until part ``n`` is hashed (its buffer may then be reused); False when the upload is abandoned."""
        with self._cv:
            while self._next <= n:
                if self._closed or self._abandon.is_set():
                    return False
                self._cv.wait(0.2)
            return True

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(5)

    def hexdigest(self, last: int) -> str | None:
        """The sha256 of parts 1..``last``, or None when not all of them were hashed."""
        with self._cv:
            return self._h.hexdigest() if self._next == last + 1 else None


class _Committer:
    """Records acknowledged parts in the database off the lanes, in the order they were acknowledged.
    A part counts (progress) only once committed; a kill before that costs nothing either: the next
    run adopts a part the server acknowledged from ListParts."""

    def __init__(self, engine: "JobEngine"):
        self.engine = engine
        self.error: BaseException | None = None
        self._q: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="part-commit", daemon=True)
        self._thread.start()

    def put(self, part: Part) -> None:
        self._q.put(part)

    def _loop(self) -> None:
        while True:
            batch, last = [self._q.get()], False
            while batch[-1] is not None:   # parts acknowledged meanwhile go in the same transaction
                try:
                    batch.append(self._q.get_nowait())
                except queue.Empty:
                    break
            if batch[-1] is None:
                batch.pop()
                last = True
            if batch and self.error is None:
                try:
                    self.engine._commit_parts(batch)
                except BaseException as e:  # noqa: BLE001 - the engine raises it
                    self.error = e
            if last:
                return

    def close(self, timeout: float | None) -> None:
        self._q.put(None)
        self._thread.join(timeout)


def _same_bytes(a: str, b: str) -> bool:
    """Whether two files hold the same bytes (read side by side, nothing hashed)."""
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb", buffering=0) as fa, open(b, "rb", buffering=0) as fb:
            while True:
                x, y = fa.read(4 * READ_CHUNK), fb.read(4 * READ_CHUNK)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def _etag(value: str) -> str:
    return value.strip('"').lower()


def _content_type(key: str) -> str:
    import mimetypes

    return mimetypes.guess_type(key)[0] or "application/octet-stream"
