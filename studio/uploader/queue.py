"""The persistent upload queue: enqueue, control, and the runner that drives the engine.

Jobs on one target run in order (one lane per target); different targets run in parallel. The
runner holds ``data/uploads.lock`` so only one process (the app or `studio uploads run`) uploads;
any process may pause, resume, cancel or retry: the runner sees the change in the database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Protocol

from studio.uploader import engine as eng
from studio.uploader import network
from studio.uploader.errors import (JobNotFound, NoSuchUploadError, OfflineError, SourceChangedError,
                                    TargetNotFound, UploadError, classify)
from studio.uploader.locks import lock
from studio.uploader.models import now_us
from studio.uploader.snapshot import freeze, sha256_file
from studio.uploader.store import (CANCELLED, COMPLETED, FAILED, PAUSED, PENDING, RUNNABLE, UNFINISHED,
                                   JobStore, UploadJob)
from studio.uploader.targets import plan_part_size, reachable
from studio.uploader.webhook import Outbox
from studio.errors import user_message

log = logging.getLogger(__name__)
EventFn = Callable[[str, str, object], None]   # (kind: "state"|"progress"|"notice", job id, payload)


class ExportResult(Protocol):
    """What an export hands the queue (studio.editor.export.ExportResult): the file and the revision it shows."""
    path: Path
    draft_id: str
    revision: int
    duration_us: int
    caption: str


# ``exporter(draft_id, *, on_progress=None, cancel=None) -> ExportResult``: freezes the draft's current
# revision into staging, reusing a finished export of it (studio.app passes the editor's export_for_upload).
Exporter = Callable[..., Any]


class QueueBusy(UploadError):
    def __init__(self):
        super().__init__("Another Reel Studio process is already running the uploads (the app or "
                         "`studio uploads run`); it will finish them.")


class UploadQueue:
    """The ``studio.uploads`` service. ``exporter`` renders a draft for ``enqueue_draft`` and ``retry``; the
    queue itself never imports the editor (it enqueues an export's result)."""

    def __init__(self, studio, exporter: Exporter | None = None):  # noqa: ANN001 - studio.app.Studio
        self.studio = studio
        self.exporter = exporter
        self.store = JobStore(studio.engine)
        self.slowdown = eng.SlowDown()
        self.retry_policy = eng.RetryPolicy()
        self.read_timeout = float(os.environ.get("STUDIO_S3_READ_TIMEOUT", "60"))
        self.bytes_sent = 0
        self._lock_file = None
        self._running = threading.Event()
        self._sent_lock = threading.Lock()
        self.list_parts_page = 1000
        self.idle_webhook_horizon = 2.0   # until_idle also waits for webhook retries due this soon
        self._hooks_wake = threading.Event()   # a job completed with a webhook, or the runner ends
        self.stop_grace = 0.8          # seconds a stop waits for lanes before leaving parts in flight
        self.last_sweep: dict = {}     # target name -> {"aborted": [...], "foreign": [...]} (reported only)

        self.webhooks = Outbox(studio.engine, lambda name: self.studio.targets.webhook_secret(name))

    # -- enqueue
    def enqueue_file(self, path: str | os.PathLike, target_name: str, *, draft_id: str | None = None,
                     title: str = "", caption: str = "", duration_us: int | None = None) -> UploadJob:
        """Freeze ``path`` into staging and queue it. Raises UploadError (missing file, unknown target...)."""
        target = self.studio.targets.get(target_name)
        job_id = uuid.uuid4().hex
        snap = freeze(Path(path), self.studio.layout.staging, job_id)
        try:
            job = self._create_job(target, path, job_id, snap, draft_id=draft_id, title=title, caption=caption,
                                   duration_us=duration_us)
        except BaseException:
            if snap.owned and snap.path != Path(path):
                snap.path.unlink(missing_ok=True)   # no job, no snapshot
            raise
        log.info("queued job %s (%d bytes) for target %s", job.id, job.size, target.name)
        return job

    def _create_job(self, target, path, job_id: str, snap, **meta) -> UploadJob:  # noqa: ANN001
        draft_id, title = meta.pop("draft_id"), meta.pop("title")
        key = target.render_key(name=Path(path).name, draft_id=draft_id, job_id=job_id)
        return self.store.create(
            id=job_id, target_name=target.name, state=PENDING, source_path=str(Path(path).absolute()),
            staging_path=str(snap.path), owns_staging=snap.owned, draft_id=draft_id, title=title or Path(path).stem,
            bucket=target.bucket, key=key, size=snap.size, mtime_ns=snap.mtime_ns, sha256=snap.sha256,
            part_size=plan_part_size(snap.size, target.part_size), checksum_algorithm=target.checksum_algorithm,
            source_size=snap.source_size, source_mtime_ns=snap.source_mtime_ns, **meta)

    def enqueue_export(self, result: ExportResult, target_name: str) -> UploadJob:
        """Queue a finished export of a draft (``studio.editor.export.ExportResult``: path, draft id, revision).

        The job freezes its own link to the export, so posting one export twice or to two targets gives
        two independent jobs, and the export may be reused or pruned without touching them.
        """
        draft = self.studio.drafts.get(result.draft_id)
        job = self.enqueue_file(result.path, target_name, draft_id=draft.id, title=draft.title,
                                caption=getattr(result, "caption", "") or "",
                                duration_us=getattr(result, "duration_us", 0) or draft.duration_us)
        self._draft_status(draft.id, "queued")
        return job

    def enqueue_draft(self, draft_id: str, target_name: str, *, on_progress=None, cancel=None) -> UploadJob:
        """Export the draft's current revision (into staging) with ``exporter`` and queue the result.

        A finished export of that revision is reused, not rendered again (the exporter's promise); each job
        gets its own link to it. Raises UploadError (unknown target, no exporter), the exporter's ExportError,
        DraftNotFound.
        """
        self.studio.targets.get(target_name)  # fail on a typo before a long export
        result = self._export(draft_id, on_progress=on_progress, cancel=cancel)
        return self.enqueue_export(result, target_name)

    def enqueue_post(self, post_id: str, target_name: str, files: list[dict], *, draft_id: str | None = None,
                     title: str = "", caption: str = "", duration_us: int | None = None) -> list[UploadJob]:
        """Queue every file of a post in one transaction (all or none), in the order given.

        ``files``: dicts with ``path`` (a file the post's bundle owns; it is not copied again), ``key``,
        ``size``, ``sha256``, ``content_type``, ``cache_control`` and ``final`` (held until every other
        file of the post is verified: the master playlist, the share page, the manifest)."""
        target = self.studio.targets.get(target_name)
        rows = []
        for f in files:
            path = Path(f["path"]).absolute()
            st = path.stat()
            rows.append(dict(
                id=uuid.uuid4().hex, target_name=target.name, state=PENDING, source_path=str(path),
                staging_path=str(path), owns_staging=False, draft_id=draft_id, title=title or path.name,
                caption=caption, duration_us=duration_us, bucket=target.bucket, key=f["key"], size=st.st_size,
                mtime_ns=st.st_mtime_ns, sha256=f["sha256"], part_size=plan_part_size(st.st_size, target.part_size),
                checksum_algorithm=target.checksum_algorithm, post_id=post_id, post_final=bool(f.get("final")),
                content_type=f.get("content_type"), cache_control=f.get("cache_control")))
        self.store.create_many(rows)
        log.info("queued post %s: %d files for target %s", post_id, len(rows), target.name)
        return self.store.for_post(post_id)

    def delete_objects(self, target_name: str, bucket: str, prefix: str) -> int:
        """Delete every object under ``prefix`` in the target's bucket (and abort unfinished uploads there).
        Talks to the network; returns how many objects were deleted. Raises UploadError."""
        if not prefix or not prefix.endswith("/"):
            raise UploadError("Refusing to delete objects without a folder prefix.")
        target = self.studio.targets.get(target_name)
        client = self.studio.targets.client(target, read_timeout=self.read_timeout)
        deleted = 0
        try:
            for u in client.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", []):
                client.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
            token = None
            for _page in range(10_000):
                kw = {"Bucket": bucket, "Prefix": prefix, **({"ContinuationToken": token} if token else {})}
                resp = client.list_objects_v2(**kw)
                keys = [{"Key": o["Key"]} for o in resp.get("Contents", [])]
                if keys:
                    client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
                if not resp.get("IsTruncated"):
                    break
                token = resp.get("NextContinuationToken")
        except UploadError:
            raise
        except Exception as e:  # noqa: BLE001 - a sentence for the creator
            raise classify(e, bucket=bucket) from None
        return deleted

    def forget_jobs(self, job_ids: list[str]) -> None:
        """Drop these jobs' records (their uploads already cancelled or finished)."""
        for jid in job_ids:
            self.store.delete(jid)

    def _export(self, draft_id: str, *, on_progress=None, cancel=None) -> ExportResult:
        if self.exporter is None:
            raise UploadError("This upload queue was built without an exporter, so it cannot export drafts; "
                              "export the draft to a file and enqueue that file.")
        return self.exporter(draft_id, on_progress=on_progress, cancel=cancel)

    def _draft_status(self, draft_id: str | None, status: str) -> None:
        if not draft_id:
            return
        try:
            self.studio.drafts.set_status(draft_id, status)
        except Exception as e:  # noqa: BLE001 - the draft's badge must not break an upload
            log.info("could not mark draft %s %s: %s", draft_id, status, e)

    # -- queries
    def list(self) -> list[UploadJob]:
        return self.store.list()

    def get(self, job_id: str) -> UploadJob:
        return self.store.get(self._resolve_id(job_id))

    def link(self, job_id: str) -> str:
        """A URL that opens the uploaded file in a browser (see ``link_info``)."""
        return self.link_info(job_id)["url"]

    def link_info(self, job_id: str) -> dict:
        """``{"url", "expires_us", "kind"}`` for a COMPLETED job: the target's public base URL plus the
        key, or a pre-signed GET URL (7 days). Raises UploadError for an unfinished job, an unknown target
        or when no credentials can sign it. Touches no network."""
        job = self.get(job_id)
        if job.state != COMPLETED:
            raise UploadError(f"Upload {job.id[:8]} is not finished yet, so it has no link.")
        return self.studio.targets.link(self.studio.targets.get(job.target_name), job.bucket, job.key)

    def wait_link_opens(self, job_id: str, timeout: float = 30.0) -> bool:
        """Whether the job's link serves its first byte within ``timeout`` (a storage that just started
        answers 5xx until its volumes are loaded). Never raises for a network failure."""
        import time
        import urllib.error
        import urllib.request

        url = self.link_info(job_id)["url"]
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=0-0"}),
                                            timeout=5) as r:
                    r.read()
                return True
            except urllib.error.HTTPError as e:
                if e.code < 500 or time.monotonic() >= deadline:
                    return False
            except OSError:
                if time.monotonic() >= deadline:
                    return False
            time.sleep(0.2)

    def unfinished_count(self) -> int:
        """How many uploads are not done yet (they continue the next time the app or `uploads run` runs)."""
        return len(self.store.list(states=UNFINISHED))

    def clear_finished(self) -> int:
        """Forget the completed and cancelled jobs (the uploaded files stay in the bucket). Returns how many."""
        done = [j for j in self.store.list(states=(COMPLETED, CANCELLED)) if not j.post_id]   # a post's files go with it
        for job in done:
            self._drop_staging(job)
            self.store.delete(job.id)
        return len(done)

    def has_pending(self) -> bool:
        return bool(self.store.list(states=UNFINISHED))

    def _resolve_id(self, job_id: str) -> str:
        """Full ids, or a unique prefix (the CLI shows short ids)."""
        if len(job_id) == 32:
            return job_id
        matches = [j.id for j in self.store.list() if j.id.startswith(job_id)]
        if len(matches) == 1:
            return matches[0]

        raise JobNotFound(job_id)

    # -- control (any process; the runner notices within a fraction of a second)
    def pause(self, job_id: str) -> UploadJob:
        jid = self._resolve_id(job_id)
        if not self.store.update(jid, state=PAUSED, paused_reason="user", only_if=RUNNABLE + (PAUSED,)):
            raise UploadError(f"Job {job_id} is {self.store.get(jid).state} and cannot be paused.")
        return self.store.get(jid)

    def resume(self, job_id: str) -> UploadJob:
        jid = self._resolve_id(job_id)
        if not self.store.update(jid, state=PENDING, paused_reason=None, only_if=(PAUSED, PENDING)):
            raise UploadError(f"Job {job_id} is {self.store.get(jid).state}; only a paused job can be resumed.")
        return self.store.get(jid)

    def retry(self, job_id: str) -> UploadJob:
        """A FAILED, CANCELLED or PAUSED job back to PENDING (a cancelled one starts a new multipart upload).

        When its frozen copy is gone, it is frozen again: from the original file, or for a draft from its
        export (rendered again if needed: this may take a while, call it off the UI thread).
        """
        jid = self._resolve_id(job_id)
        job = self.store.get(jid)
        if job.state not in (FAILED, CANCELLED, PAUSED):
            raise UploadError(f"Job {job_id} is {job.state}; only a failed, cancelled or paused job can be retried.")
        values: dict = {"state": PENDING, "error": None, "paused_reason": None}
        if job.state == CANCELLED:
            self.store.drop_parts(jid)
            values["upload_id"] = None
        if job.post_id and not (job.staging_path and Path(job.staging_path).exists()):
            raise UploadError("This post's files are no longer on this computer; delete the post and publish "
                              "the draft again.")
        if not job.staging_path or not Path(job.staging_path).exists():
            source = Path(job.source_path)
            if not source.is_file() and job.draft_id:
                source = Path(self._export(job.draft_id).path)
            elif not source.is_file():
                raise UploadError(f"The file {source.name} is gone, and so is its frozen copy; enqueue the file "
                                  "again from where it is now.")
            snap = freeze(source, self.studio.layout.staging, jid)
            self.store.drop_parts(jid)
            values.update(staging_path=str(snap.path), size=snap.size, mtime_ns=snap.mtime_ns, sha256=snap.sha256,
                          upload_id=None, source_path=str(source.absolute()), source_size=snap.source_size,
                          source_mtime_ns=snap.source_mtime_ns, owns_staging=True,
                          part_size=plan_part_size(snap.size, self._wanted_part_size(job)))
            if job.size != snap.size or (job.sha256 is not None and sha256_file(snap.path) != job.sha256):
                values["notice"] = "The file had changed since it was queued; the retry uploads its new content."
        self.store.update(jid, **values)
        return self.store.get(jid)

    def _wanted_part_size(self, job: UploadJob) -> int:
        try:
            return self.studio.targets.get(job.target_name).part_size
        except TargetNotFound:
            return job.part_size

    def cancel(self, job_id: str) -> UploadJob:
        """Cancel and abort the multipart upload on the server (talks to the network: call off the UI thread)."""
        jid = self._resolve_id(job_id)
        if not self.store.update(jid, state=CANCELLED, paused_reason=None, only_if=UNFINISHED + (FAILED,)):
            raise UploadError(f"Job {job_id} is {self.store.get(jid).state} and cannot be cancelled.")
        self._abort_server_upload(self.store.get(jid))
        self._drop_staging(self.store.get(jid))
        return self.store.get(jid)

    def pause_all(self) -> int:
        return sum(self.store.update(j.id, state=PAUSED, paused_reason="user", only_if=RUNNABLE)
                   for j in self.store.list(states=RUNNABLE))

    def resume_all(self) -> int:
        return sum(self.store.update(j.id, state=PENDING, paused_reason=None, only_if=(PAUSED,))
                   for j in self.store.list(states=(PAUSED,)))

    def _abort_server_upload(self, job: UploadJob) -> None:
        if not job.upload_id:
            return
        try:
            client = self.studio.targets.client(self.studio.targets.get(job.target_name), read_timeout=15)
            client.abort_multipart_upload(Bucket=job.bucket, Key=job.key, UploadId=job.upload_id)
        except Exception as e:  # noqa: BLE001 - the sweeper aborts what is left
            log.info("abort of job %s failed (%s); the sweeper will clean it up", job.id, type(e).__name__)

    def _drop_staging(self, job: UploadJob) -> None:
        """The job's own frozen copy or link; never a file another job or the export cache holds."""
        if job.owns_staging and job.staging_path and job.staging_path != job.source_path:
            Path(job.staging_path).unlink(missing_ok=True)

    # -- sweeper
    CRASH_WINDOW_S = 120   # an intent with no id: an upload of that key initiated this close to it is ours

    def sweep(self, target_name: str) -> int:
        """Abort the multipart uploads this profile created and no longer owns. Returns how many.

        Ours are the upload ids recorded in ``upload_created`` (an intent row is written before each
        CreateMultipartUpload, the id right after): one no unfinished job owns any more is a leftover
        (a restart, a failed abort). An intent whose id never got committed (a crash in between) claims
        the one upload of exactly that key initiated within a couple of minutes of it. Every other
        upload in the bucket (another device's, another profile's) is never aborted, only reported in
        ``last_sweep[target]["foreign"]`` and the log.
        """
        return self._sweep_listed(self._sweep_plan(target_name))

    def _sweep_plan(self, target_name: str) -> dict:
        """What the sweeper knows from this profile's database, read before any lane starts: an upload a
        lane creates afterwards is in neither list, so a sweep running beside the lanes never takes it."""
        target = self.studio.targets.get(target_name)
        return {"name": target_name, "target": target, "owned": self.store.owned_upload_ids(),
                "created": self.store.created_uploads(target.bucket)}

    def _sweep_listed(self, plan: dict, *, initiated_before: float | None = None) -> int:
        """The sweep's requests, from ``plan``. ``initiated_before`` (a time.time()): uploads the server
        says were initiated later are never claimed by an intent (a lane of this runner may have just
        created one for a key an old crash left an intent for)."""
        from datetime import datetime, timezone

        target_name, target, owned, created = plan["name"], plan["target"], plan["owned"], plan["created"]
        client = self.studio.targets.client(target, read_timeout=self.read_timeout)   # the runner's, cached
        by_id = {r.upload_id: r for r in created if r.upload_id}
        intents = [r for r in created if not r.upload_id]
        keys = {r.key for r in created}
        aborted, foreign, done_rows = [], [], []
        kwargs = {"Bucket": target.bucket}
        prefix = target.prefix()
        if prefix:
            kwargs["Prefix"] = prefix
        listed: set[str] = set()
        for _page in range(10_000):
            resp = client.list_multipart_uploads(**kwargs)
            for u in resp.get("Uploads", []):
                uid, key = u["UploadId"], u["Key"]
                listed.add(uid)
                if uid in owned:
                    continue
                initiated = u.get("Initiated")
                fresh = initiated_before is not None and initiated is not None and \
                    initiated.timestamp() >= initiated_before
                row = by_id.get(uid) or (None if fresh else self._claim_intent(intents, key, initiated))
                if row is None:
                    if key in keys or not prefix or key.startswith(prefix):
                        foreign.append({"key": key, "upload_id": uid})
                    continue
                try:
                    client.abort_multipart_upload(Bucket=target.bucket, Key=key, UploadId=uid)
                except Exception as e:  # noqa: BLE001 - tried again next sweep
                    log.info("sweeper could not abort an upload of %s (%s)", key, type(e).__name__)
                    continue
                aborted.append({"key": key, "upload_id": uid})
                done_rows.append(row.id)
            if not resp.get("IsTruncated"):
                break
            kwargs.update(KeyMarker=resp.get("NextKeyMarker"), UploadIdMarker=resp.get("NextUploadIdMarker"))
        # Ids we created that the server no longer lists (completed, aborted) need no more sweeping; nor do
        # intents older than the crash window that no upload answered (the crash came before the create).
        cutoff_us = (time.time() - self.CRASH_WINDOW_S) * 1e6
        finished = [r.id for r in created if r.upload_id and r.upload_id not in owned and r.upload_id not in listed]
        stale = [r.id for r in intents if r.intent_us < cutoff_us]
        self.store.mark_aborted(done_rows + finished + stale)
        self.last_sweep[target_name] = {"aborted": aborted, "foreign": foreign,
                                        "at": datetime.now(timezone.utc).isoformat()}
        if aborted:
            log.info("sweeper aborted %d of this profile's abandoned multipart uploads in %s", len(aborted),
                     target.bucket)
        if foreign:
            log.info("sweeper left %d multipart uploads in %s that this profile did not create", len(foreign),
                     target.bucket)
        return len(aborted)

    def _claim_intent(self, intents: list, key: str, initiated) -> object | None:  # noqa: ANN001
        if initiated is None:
            return None
        at = initiated.timestamp()
        for r in intents:
            if r.key == key and abs(at - r.intent_us / 1e6) <= self.CRASH_WINDOW_S:
                intents.remove(r)   # one intent claims one upload
                return r
        return None

    # -- the runner
    def acquire_runner(self) -> bool:
        """Become the one process that uploads. False when another process already is."""
        if self._lock_file is not None:
            return True

        f = open(self.studio.layout.data / "uploads.lock", "w")
        if not lock(f, blocking=False):
            f.close()
            return False
        self._lock_file = f
        return True

    def release_runner(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def run(self, *, until_idle: bool = False, stop: threading.Event | None = None,
            on_event: EventFn | None = None, poll: float = 0.5, offline_probe: float = 3.0) -> dict:
        """Upload until ``stop`` is set (or, with ``until_idle``, until nothing is runnable).

        Raises QueueBusy when another process holds the queue. Returns a summary.
        """
        stop = stop or threading.Event()
        if not self.acquire_runner():
            raise QueueBusy()
        emit = on_event or (lambda *_: None)
        lanes: dict[str, threading.Thread] = {}
        results = {"completed": 0, "failed": 0, "paused": 0}
        self._running.set()
        hooks_done = threading.Event()
        hooks = threading.Thread(target=self._deliver_webhooks, args=(stop, hooks_done, emit),
                                 name="webhook-outbox", daemon=True)
        sweeper = None
        try:
            sweeper = self._sweep_all()
            self.webhooks.make_all_due()   # a new runner tries every waiting webhook at once
            hooks.start()
            last_probe = 0.0
            while not stop.is_set():
                if time.monotonic() - last_probe >= offline_probe:
                    last_probe = time.monotonic()
                    self._wake_paused(emit)
                lanes = {t: th for t, th in lanes.items() if th.is_alive()}
                runnable = self.store.runnable()
                for name in dict.fromkeys(j.target_name for j in runnable):
                    if name not in lanes:
                        th = threading.Thread(target=self._lane, args=(name, stop, emit, results),
                                              name=f"upload-lane-{name}", daemon=True)
                        lanes[name] = th
                        th.start()
                if until_idle and not runnable and not lanes and not self._delivering and \
                        not self.webhooks.due(within=self.idle_webhook_horizon):
                    break
                self._wait_for_lanes(lanes, stop, poll)
        finally:
            hooks_done.set()
            self._hooks_wake.set()
            # A stop (Ctrl+C, SIGTERM, the app closing) waits only a moment for parts on the wire: what is
            # acknowledged is committed, the rest is sent again next time.
            deadline = time.monotonic() + self.stop_grace if stop.is_set() else None
            for th in [*lanes.values(), hooks, *([sweeper] if sweeper is not None else [])]:
                if th.ident is not None:
                    th.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if any(th.is_alive() for th in lanes.values()):
                log.info("stopped with parts still in flight; they are sent again on the next run")
            self._running.clear()
            self.release_runner()
        results["bytes_sent"] = self.bytes_sent
        return results

    _delivering = False

    @staticmethod
    def _wait_for_lanes(lanes: dict, stop: threading.Event, poll: float) -> None:
        """``poll`` seconds, or less: a lane that ends (its job done) is seen at once, not at the next
        poll (the database is asked again only then)."""
        deadline = time.monotonic() + poll
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or not lanes or not all(th.is_alive() for th in lanes.values()):
                if not lanes and left > 0:
                    stop.wait(left)
                return
            stop.wait(min(left, 0.02))

    WEBHOOK_POLL_S = 1.0   # the outbox is read this often at most while nothing is due (rows of other
                           # processes); a job completing here wakes the thread at once

    def _deliver_webhooks(self, stop: threading.Event, done: threading.Event, emit: EventFn) -> None:
        """The outbox, off the upload lanes: each due delivery gets one attempt; then the thread sleeps
        until the next one is due, a job completes, or the runner ends (not a database read every
        fraction of a second while parts are on the wire)."""
        while not stop.is_set() and not done.is_set():
            self._hooks_wake.clear()
            wait = self.WEBHOOK_POLL_S
            try:
                now = now_us()
                for d in self.webhooks.pending():
                    if d.next_attempt_us > now:
                        wait = min(wait, (d.next_attempt_us - now) / 1e6)
                        continue
                    if stop.is_set():
                        break
                    wait = 0.0   # read the outbox again at once: this attempt may have scheduled a retry
                    self._delivering = True
                    state = self.webhooks.attempt(d.id)
                    self._delivering = False
                    latest = self.webhooks.for_job(d.job_id)
                    if latest is not None:
                        self.store.update(d.job_id, webhook_status=latest.status_line())
                        emit("webhook", d.job_id, latest.status_line())
                        if state == "failed":
                            emit("notice", d.job_id, f"Uploaded, but the webhook {latest.status_line()}.")
            except Exception:  # noqa: BLE001 - the outbox keeps its rows; try again shortly
                log.exception("webhook delivery loop")
                wait = max(wait, 0.2)
            finally:
                self._delivering = False
            if wait > 0:
                self._hooks_wake.wait(max(0.02, wait))   # set when the runner ends, by a stop too

    def sweep_staging(self, *, older_than: float = 600) -> int:
        """Remove frozen copies no job needs: a job finished or cancelled (a kill came before the clean-up)
        or none at all (a kill during enqueue, older than ``older_than`` s so a concurrent enqueue is safe).
        Exports of drafts are not touched here (they are reused, and pruned per draft). Returns how many."""
        import re

        jobs = {j.id: j for j in self.store.list()}
        removed = 0
        now = time.time()
        for f in self.studio.layout.staging.glob("upload-*"):
            m = re.match(r"upload-([0-9a-f]{32})-", f.name)
            if not m or not f.is_file():
                continue
            job = jobs.get(m.group(1))
            try:
                finished = job is not None and job.state in (COMPLETED, CANCELLED) and str(f) == job.staging_path
                st = f.stat()   # a link's mtime is its original's (any age): its ctime says when it was made
                age = now - (max(st.st_mtime, st.st_ctime) if st.st_nlink > 1 else st.st_mtime)
                stray = (job is None or str(f) != job.staging_path) and age >= older_than
                if finished or stray:
                    f.unlink()
                    removed += 1
            except OSError:
                continue
        if removed:
            log.info("removed %d frozen copies no upload needs any more", removed)
        return removed

    def _sweep_all(self) -> threading.Thread:
        """The housekeeping of a new runner, beside the uploads rather than before them: what the
        database knows is read now (see _sweep_plan); the requests and the staging clean-up run in a
        thread (joined when the runner ends)."""
        plans = []
        try:
            for name in dict.fromkeys(j.target_name for j in self.store.list(states=UNFINISHED)):
                try:
                    plans.append(self._sweep_plan(name))
                except Exception as e:  # noqa: BLE001 - e.g. a target removed meanwhile
                    log.info("sweep of %s skipped: %s", name, type(e).__name__)
        except Exception as e:  # noqa: BLE001 - housekeeping never stops the uploads
            log.info("sweep skipped: %s", type(e).__name__)
        # a few seconds of margin for the server's clock; an upload this runner creates is never older
        started = time.time() - 5.0

        def work() -> None:
            try:
                self.sweep_staging()
            except Exception as e:  # noqa: BLE001 - housekeeping never stops the uploads
                log.info("staging clean-up skipped: %s", type(e).__name__)
            for plan in plans:
                try:
                    self._sweep_listed(plan, initiated_before=started)
                except Exception as e:  # noqa: BLE001 - an offline target is swept next time
                    log.info("sweep of %s skipped: %s", plan["name"], type(e).__name__)

        th = threading.Thread(target=work, name="upload-sweeper", daemon=True)
        th.start()
        return th

    def _wake_paused(self, emit: EventFn) -> None:
        """Offline/metered pauses end by themselves when the reason is gone."""
        for job in self.store.list(states=(PAUSED,)):
            if job.paused_reason not in ("offline", "metered"):
                continue
            try:
                target = self.studio.targets.get(job.target_name)
            except TargetNotFound:
                continue
            if job.paused_reason == "metered" and network.is_metered() is not True or \
                    job.paused_reason == "offline" and (target.is_local or reachable(target)):
                if self.store.update(job.id, state=PENDING, paused_reason=None, error=None, only_if=(PAUSED,)):
                    log.info("job %s: %s no more; resuming", job.id, job.paused_reason)
                    emit("state", job.id, PENDING)

    def _lane(self, target_name: str, stop: threading.Event, emit: EventFn, results: dict) -> None:
        restarts = 0
        while not stop.is_set():
            jobs = self.store.runnable(target_name)
            if not jobs:
                return
            outcome = self._run_job(jobs[0], stop, emit)
            if outcome == "restart":
                restarts += 1
                if restarts > 3:
                    self._fail(jobs[0].id, "The upload had to start again too often (the file keeps changing, or "
                                           "the storage keeps forgetting the upload); retry later.", emit)
                continue
            restarts = 0
            if outcome in results:
                results[outcome] += 1

    def _run_job(self, job: UploadJob, stop: threading.Event, emit: EventFn) -> str:
        try:
            target = self.studio.targets.get(job.target_name)
            if target.unmetered_only and network.is_metered() is True:
                self.store.update(job.id, state=PAUSED, paused_reason="metered", only_if=RUNNABLE,
                                  error="Waiting for an unmetered network (this target uploads only on those).")
                emit("state", job.id, PAUSED)
                return "paused"
            client = self.studio.targets.client(target, read_timeout=self.read_timeout)
        except UploadError as e:
            return self._fail(job.id, str(e), emit)
        except Exception as e:  # noqa: BLE001 - e.g. the local S3 would not start
            log.exception("job %s: could not prepare the upload", job.id)
            return self._fail(job.id, user_message(
                e, f"Could not prepare the upload ({type(e).__name__}); see the log."), emit)
        ctx = eng.RunContext(store=self.store, client=client, stop=stop, slowdown=self.slowdown,
                             bandwidth=self._bandwidth(target), concurrency=target.concurrency,
                             trailer_checksums=not target.checksum_when_required,
                             retry=self.retry_policy, is_reachable=lambda: target.is_local or reachable(target),
                             on_progress=lambda jid, done, total: emit("progress", jid, (done, total)),
                             on_state=lambda jid, state: emit("state", jid, state),
                             on_restart=lambda jid, why: emit("restart", jid, why),
                             part_size_wanted=target.part_size, list_parts_page=self.list_parts_page,
                             webhook_row=(lambda j: self.webhooks.row_for(j, target)) if target.webhook_url else None)
        engine = eng.JobEngine(job, ctx)
        try:
            engine.run()
        except eng.Interrupted:
            state = self.store.state(job.id)
            if state == CANCELLED:
                self._abort_server_upload(self.store.get(job.id))
                self._drop_staging(self.store.get(job.id))
            emit("state", job.id, state)
            return "interrupted"
        except Exception as e:  # noqa: BLE001 - sorted out in _after_error
            return self._after_error(job, e, emit)
        finally:
            engine.close()
            with self._sent_lock:
                self.bytes_sent += ctx.bytes_sent
        self._after_complete(self.store.get(job.id), target, emit)
        return "completed"

    def _after_error(self, job: UploadJob, error: Exception, emit: EventFn) -> str:
        state = self.store.state(job.id)
        if state in (CANCELLED, PAUSED):
            # Cancelled or paused from elsewhere while a request was out (a cancel aborts the upload,
            # so the engine saw NoSuchUpload): the user's decision stands, not the error.
            emit("state", job.id, state)
            return "interrupted"
        if isinstance(error, NoSuchUploadError):
            notice = "The storage had forgotten the unfinished upload; it was started again from zero."
            self.store.drop_parts(job.id)
            self.store.update(job.id, upload_id=None, notice=notice)
            emit("restart", job.id, notice)
            return "restart"
        if isinstance(error, SourceChangedError):
            return "restart"   # the engine already started it again cleanly, and said why on the job
        if isinstance(error, OfflineError):
            self.store.update(job.id, state=PAUSED, paused_reason="offline", error=str(error), only_if=RUNNABLE)
            emit("state", job.id, PAUSED)
            return "paused"
        if isinstance(error, UploadError):
            return self._fail(job.id, str(error), emit)
        # never leave a job spinning on a bug
        log.error("job %s: unexpected error", job.id, exc_info=error)
        return self._fail(job.id, f"Unexpected error ({type(error).__name__}); see the log and retry.", emit)

    def _fail(self, job_id: str, message: str, emit: EventFn) -> str:
        self.store.update(job_id, state=FAILED, error=message, only_if=RUNNABLE)
        log.warning("job %s failed: %s", job_id, message)
        emit("state", job_id, FAILED)
        return "failed"

    _bandwidths: dict

    def _bandwidth(self, target) -> eng.Bandwidth:  # noqa: ANN001 - targets.Target
        if not hasattr(self, "_bandwidths"):
            self._bandwidths = {}
        bw = self._bandwidths.get(target.name)
        if bw is None or bw.limit != target.bandwidth_limit:
            bw = self._bandwidths[target.name] = eng.Bandwidth(target.bandwidth_limit)
        return bw

    def _after_complete(self, job: UploadJob, target, emit: EventFn) -> None:  # noqa: ANN001
        # A webhook is already in the outbox (committed with COMPLETED): the webhook thread delivers it.
        if target.webhook_url:
            self._hooks_wake.set()
        self._drop_staging(job)
        self._draft_status(job.draft_id, "published")
        log.info("job %s completed: s3://%s/%s", job.id, job.bucket, job.key)
