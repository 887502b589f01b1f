"""Posts: a draft published as a streaming bundle, uploaded as one group of upload jobs.

    post = studio.posts.publish(draft_id, "local", on_stage=lambda stage, f: ...)   # builds, queues
    studio.uploads.run(until_idle=True)                                             # carries it to LIVE
    studio.posts.get(post.id).state == "LIVE"; studio.posts.links(post)["share_url"]

A post is BUILDING (export + ladder, in the publishing process), then UPLOADING (its jobs: each file
with the single-upload guarantees), LIVE once every file is verified — the master playlist, the share
page and the manifest are held by the queue until then and go last, so nothing of a half-uploaded
post is reachable (its other keys are under a random ``posts/<post_id>/`` no link names). FAILED
says why (``retry`` continues; a build is redone, uploads resume), CANCELLED when its uploads were
cancelled. The state is derived from the jobs and the build's lock, never stored beside them.

Links: with the target's public base URL, that URL + the key (no expiry); for "This computer" the
local S3 serves ``posts/`` for reading on 127.0.0.1; otherwise every link is pre-signed, written into
the playlists and the page at build time, and the post plays for ``LINK_SECONDS`` (7 days, SigV4's
limit) after it was published.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from studio import durable
from studio.errors import StudioError, user_message
from studio.uploader.errors import UploadError
from studio.uploader.models import PostRow, now_us
from studio.uploader.store import CANCELLED, COMPLETED, FAILED, UNFINISHED, UploadJob
from studio.uploader.targets import LINK_SECONDS

log = logging.getLogger(__name__)

BUILDING, UPLOADING, LIVE = "BUILDING", "UPLOADING", "LIVE"
POST_FAILED, POST_CANCELLED = "FAILED", "CANCELLED"
StageFn = Callable[[str, float], None]   # ("exporting" | "building" | "queued", fraction)


class PostError(StudioError, RuntimeError):
    """A post could not be made or changed; ``str(e)`` says why."""


class PostNotFound(PostError, KeyError):
    def __init__(self, post_id: str):
        super().__init__(f"There is no post {post_id!r}; `studio posts list` shows them.")

    def __str__(self) -> str:   # KeyError would quote the sentence
        return self.user_message


class PublishCancelled(PostError):
    def __init__(self) -> None:
        super().__init__("Publishing was cancelled; nothing was uploaded.")


@dataclass(frozen=True)
class Post:
    id: str
    draft_id: str
    revision: int | None
    target_name: str
    bucket: str
    prefix: str
    title: str
    caption: str
    duration_us: int | None
    bundle_dir: str
    link_kind: str | None
    links_expire_us: int | None
    created_us: int
    built_us: int | None
    state: str
    message: str | None                       # why it failed / what it waits for
    jobs: list[UploadJob] = field(default_factory=list)

    @property
    def files_total(self) -> int:
        return len(self.jobs)

    @property
    def files_verified(self) -> int:
        return sum(j.state == COMPLETED for j in self.jobs)

    @property
    def bytes_total(self) -> int:
        return sum(j.size for j in self.jobs)

    @property
    def bytes_done(self) -> int:
        return sum(j.size if j.state == COMPLETED else j.bytes_done for j in self.jobs)

    def key(self, rel: str) -> str:
        return self.prefix + rel


class PostService:
    """The ``studio.posts`` service (no Qt): publish, list, show, links, cancel, retry, delete."""

    def __init__(self, studio):  # noqa: ANN001 - studio.app.Studio
        self.studio = studio
        self.engine = studio.engine
        self.writes = self.engine.execution_options(studio_write=True)

    # -- publish
    def publish(self, draft_id: str, target_name: str, *, on_stage: StageFn | None = None,
                cancel: threading.Event | None = None) -> Post:
        """Build the draft's bundle (its current revision) and queue its files on ``target_name``.

        Returns the post (UPLOADING; the upload runner carries it to LIVE). Raises PublishCancelled
        (nothing is left behind), PostError / the build's errors (the post stays FAILED with the reason;
        ``retry`` builds again), DraftNotFound, TargetNotFound."""
        target = self.studio.targets.get(target_name)   # a typo fails before a long build
        draft = self.studio.drafts.get(draft_id)
        post_id = uuid.uuid4().hex
        folder = self.studio.layout.staging / f"post-{post_id}"
        with Session(self.writes) as s, s.begin():
            s.execute(insert(PostRow).values(
                id=post_id, draft_id=draft.id, revision=draft.revision, target_name=target.name,
                bucket=target.bucket, prefix=f"posts/{post_id}/", title=draft.title or "", caption="",
                duration_us=draft.duration_us, bundle_dir=str(folder), created_us=now_us()))
        log.info("post %s: publishing draft %s to %s", post_id, draft.id, target.name)
        self._build(post_id, on_stage=on_stage, cancel=cancel)
        return self.get(post_id)

    def _build(self, post_id: str, *, on_stage: StageFn | None, cancel: threading.Event | None) -> None:
        from studio.editor.export import load_edit  # noqa: PLC0415 - keeps Qt/editor out of `posts list`, `links`
        from studio.publish.bundle import build_bundle  # noqa: PLC0415 - heavy (numpy): only building needs it
        from studio.publish.ladder import LadderCancelled  # noqa: PLC0415 - heavy (numpy), as build_bundle

        row = self._row(post_id)
        folder = Path(row.bundle_dir)
        lock_path = folder.with_name(folder.name + ".lock")
        folder.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not durable.lock(fd, blocking=False):
                raise PostError("This post is being built by another Reel Studio process already.")
            self._set(post_id, error=None)
            try:
                draft = self.studio.drafts.get(row.draft_id)
                edit = load_edit(draft)
                target = self.studio.targets.get(row.target_name)
                urls, kind, expires = self._url_maker(target, row)
                with self.studio.drafts.exporting(draft.id):
                    bundle = build_bundle(edit, self.studio.drafts.media_refs(draft), folder, post_id=post_id,
                                          title=draft.title or "", caption=edit.caption or "", draft_id=draft.id,
                                          revision=draft.revision, urls=urls,
                                          overlay_dir=self.studio.layout.cache / "overlays", on_stage=on_stage,
                                          cancel=cancel)
                if cancel is not None and cancel.is_set():
                    raise LadderCancelled()
                files = [{**f, "key": row.prefix + f["rel"]} for f in bundle.file_dicts()]
                self.studio.uploads.enqueue_post(post_id, target.name, files, draft_id=draft.id,
                                                 title=draft.title or "", caption=edit.caption or "",
                                                 duration_us=edit.duration_us)
                self._set(post_id, built_us=now_us(), link_kind=kind, links_expire_us=expires,
                          caption=edit.caption or "", duration_us=edit.duration_us, revision=draft.revision)
                if on_stage:
                    on_stage("queued", 1.0)
            except LadderCancelled:
                self._forget(post_id)
                shutil.rmtree(folder, ignore_errors=True)
                raise PublishCancelled() from None
            except BaseException as e:
                message = user_message(e, f"Publishing failed unexpectedly ({type(e).__name__}); see the log and retry.")
                if not isinstance(e, StudioError):
                    log.exception("post %s: build failed", post_id)
                self._set(post_id, error=message)
                shutil.rmtree(folder, ignore_errors=True)
                raise
        finally:
            os.close(fd)
            lock_path.unlink(missing_ok=True)

    def _url_maker(self, target, row: PostRow):  # noqa: ANN001, ANN202 - (urls | None, kind, expires_us)
        """How the bundle's files refer to each other: relative (read where they lie) or pre-signed."""
        if target.public_base_url or target.is_local:
            return None, ("public" if target.public_base_url else "local"), None

        expires = now_us() + LINK_SECONDS * 1_000_000
        return (lambda rel: self.studio.targets.link(target, row.bucket, row.prefix + rel)["url"]), "presigned", \
            expires

    # -- queries
    def list(self) -> list[Post]:
        with Session(self.engine) as s:
            rows = s.scalars(select(PostRow).order_by(PostRow.created_us.desc())).all()
            s.expunge_all()
        return [self._post(r) for r in rows]

    def get(self, post_id: str) -> Post:
        return self._post(self._row(self._resolve(post_id)))

    def links(self, post: Post) -> dict:
        """``share_url``, ``master_playlist_url``, ``manifest_url``, ``poster_url``, ``kind`` (public |
        local | presigned) and ``expires_us`` (None: no expiry). Raises PostError when the target
        cannot make links (removed, no credentials, This computer never started). Touches no network."""
        from studio.publish.bundle import MANIFEST, MASTER, POSTER, SHARE_PAGE  # noqa: PLC0415 - heavy (numpy)

        try:
            target = self.studio.targets.get(post.target_name)
            if target.public_base_url:
                base = target.public_base_url.rstrip("/")
                url = lambda rel: f"{base}/{quote(post.key(rel))}"  # noqa: E731
                kind, expires = "public", None
            elif target.is_local:
                base = self.studio.local_s3.public_base_url()
                if not base:
                    raise PostError("The storage on this computer has not run yet, so the post has no address.")
                url = lambda rel: f"{base}/{quote(post.key(rel))}"  # noqa: E731
                kind, expires = "local", None
            else:
                url = lambda rel: self.studio.targets.link(target, post.bucket, post.key(rel))["url"]  # noqa: E731
                kind, expires = "presigned", post.links_expire_us
        except UploadError as e:
            raise PostError(str(e)) from None
        return {"share_url": url(SHARE_PAGE), "master_playlist_url": url(MASTER), "manifest_url": url(MANIFEST),
                "poster_url": url(POSTER), "kind": kind, "expires_us": expires}

    def show(self, post_id: str) -> dict:
        """Everything about a post, as `studio posts show --json` prints it."""
        post = self.get(post_id)
        d = {"post_id": post.id, "state": post.state, "message": post.message, "draft_id": post.draft_id,
             "revision": post.revision, "target": post.target_name, "bucket": post.bucket, "prefix": post.prefix,
             "title": post.title, "caption": post.caption, "duration_us": post.duration_us,
             "created_us": post.created_us, "files_total": post.files_total, "files_verified": post.files_verified,
             "bytes_total": post.bytes_total, "bytes_done": post.bytes_done,
             "share_url": None, "master_playlist_url": None, "manifest_url": None, "poster_url": None,
             "link_kind": post.link_kind, "links_expire_us": None,
             "files": [{"path": j.key[len(post.prefix):], "key": j.key, "job_id": j.id, "state": j.state,
                        "size": j.size, "sha256": j.sha256, "bytes_done": j.size if j.state == COMPLETED
                        else j.bytes_done, "content_type": j.content_type, "cache_control": j.cache_control,
                        "error": j.error} for j in post.jobs]}
        if post.state == LIVE:
            try:
                links = self.links(post)
                d.update({k: links[k] for k in ("share_url", "master_playlist_url", "manifest_url", "poster_url")})
                d["link_kind"], d["links_expire_us"] = links["kind"], links["expires_us"]
            except PostError as e:
                d["link_error"] = str(e)
        return d

    # -- control
    def cancel(self, post_id: str) -> Post:
        """Cancel its unfinished uploads (talks to the network: off the UI thread)."""
        post = self.get(post_id)
        for j in post.jobs:
            if j.state in UNFINISHED + (FAILED,):
                try:
                    self.studio.uploads.cancel(j.id)
                except StudioError as e:
                    log.info("post %s: cancel of %s: %s", post.id, j.id[:8], e)
        return self.get(post.id)

    def retry(self, post_id: str, *, on_stage: StageFn | None = None,
              cancel: threading.Event | None = None) -> Post:
        """A FAILED or CANCELLED post again: a failed build is built again; failed or cancelled uploads
        resume (verified files are not sent again)."""
        post = self.get(post_id)
        if post.state not in (POST_FAILED, POST_CANCELLED):
            raise PostError(f"Post {post.id[:8]} is {post.state}; only a failed or cancelled post can be retried.")
        if post.built_us is None:
            self._build(post.id, on_stage=on_stage, cancel=cancel)
        else:
            for j in post.jobs:
                if j.state in (FAILED, CANCELLED):
                    self.studio.uploads.retry(j.id)
        return self.get(post.id)

    def delete(self, post_id: str) -> int:
        """Remove the post from the bucket (every object under its prefix), then forget it. Returns how
        many objects were deleted. Talks to the network; raises PostError / UploadError (nothing is
        forgotten then: delete again)."""
        post = self.get(post_id)
        if post.state == BUILDING:
            raise PostError("This post is still being built; cancel it first.")
        for j in post.jobs:
            if j.state in UNFINISHED:
                self.studio.uploads.store.update(j.id, state=CANCELLED, only_if=UNFINISHED)
        deleted = self.studio.uploads.delete_objects(post.target_name, post.bucket, post.prefix)
        self.studio.uploads.forget_jobs([j.id for j in post.jobs])
        self._forget(post.id)
        shutil.rmtree(post.bundle_dir, ignore_errors=True)
        log.info("post %s deleted (%d objects)", post.id, deleted)
        return deleted

    def tidy(self) -> int:
        """Remove the local bundles of LIVE posts (every file is verified in the bucket). Returns how many."""
        removed = 0
        for post in self.list():
            if post.state == LIVE and Path(post.bundle_dir).exists():
                shutil.rmtree(post.bundle_dir, ignore_errors=True)
                removed += 1
        return removed

    # -- rows
    def _resolve(self, post_id: str) -> str:
        post_id = (post_id or "").strip().lower()
        with Session(self.engine) as s:
            if len(post_id) == 32 and s.get(PostRow, post_id) is not None:
                return post_id
            if len(post_id) >= 4:
                ids = s.scalars(select(PostRow.id).where(PostRow.id.startswith(post_id))).all()
                if len(ids) == 1:
                    return ids[0]
        raise PostNotFound(post_id)

    def _row(self, post_id: str) -> PostRow:
        with Session(self.engine) as s:
            row = s.get(PostRow, post_id)
            if row is None:
                raise PostNotFound(post_id)
            s.expunge(row)
            return row

    def _set(self, post_id: str, **values) -> None:
        with Session(self.writes) as s, s.begin():
            s.execute(update(PostRow).where(PostRow.id == post_id).values(**values))

    def _forget(self, post_id: str) -> None:
        with Session(self.writes) as s, s.begin():
            s.execute(delete(PostRow).where(PostRow.id == post_id))

    def _post(self, row: PostRow) -> Post:
        jobs = self.studio.uploads.store.for_post(row.id)
        state, message = self._state(row, jobs)
        return Post(id=row.id, draft_id=row.draft_id, revision=row.revision, target_name=row.target_name,
                    bucket=row.bucket, prefix=row.prefix, title=row.title, caption=row.caption,
                    duration_us=row.duration_us, bundle_dir=row.bundle_dir, link_kind=row.link_kind,
                    links_expire_us=row.links_expire_us, created_us=row.created_us, built_us=row.built_us,
                    state=state, message=message, jobs=jobs)

    @staticmethod
    def _state(row: PostRow, jobs: list[UploadJob]) -> tuple[str, str | None]:
        if row.built_us is None:
            if row.error:
                return POST_FAILED, row.error
            if _build_running(Path(row.bundle_dir)):
                return BUILDING, None
            return POST_FAILED, "Building the post was interrupted (the app closed); retry to build it again."
        states = [j.state for j in jobs]
        if states and all(s == COMPLETED for s in states):
            return LIVE, None
        failed = next((j for j in jobs if j.state == FAILED), None)
        if failed is not None:
            return POST_FAILED, failed.error or "A file of this post failed to upload; retry."
        if any(s == CANCELLED for s in states):
            return POST_CANCELLED, "Its uploads were cancelled."
        done = sum(s == COMPLETED for s in states)
        return UPLOADING, f"{done}/{len(states)} files verified"


def _build_running(folder: Path) -> bool:
    """Whether a process holds this post's build lock (the OS drops it when that process dies)."""
    lock_path = folder.with_name(folder.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except OSError:
        return False
    try:
        if durable.lock(fd, blocking=False):
            durable.unlock(fd)
            return False
        return True
    finally:
        os.close(fd)
