"""The persistent queue's records: jobs and their acknowledged parts, in the app's SQLite database.

Every write is its own short transaction, so what is committed is exactly what was acknowledged
(invariant 4): the upload id before the first part is sent, each part as soon as the server
acknowledged it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from studio.uploader.errors import JobNotFound
from studio.uploader.models import CreatedUploadRow, JobRow, PartRow, now_us

PENDING, IN_PROGRESS, PAUSED, RETRYING = "PENDING", "IN_PROGRESS", "PAUSED", "RETRYING"
COMPLETED, FAILED, CANCELLED = "COMPLETED", "FAILED", "CANCELLED"
STATES = (PENDING, IN_PROGRESS, PAUSED, RETRYING, COMPLETED, FAILED, CANCELLED)
RUNNABLE = (PENDING, IN_PROGRESS, RETRYING)
UNFINISHED = RUNNABLE + (PAUSED,)
TERMINAL = (COMPLETED, FAILED, CANCELLED)


@dataclass(frozen=True)
class UploadJob:
    id: str
    seq: int
    target_name: str
    state: str
    paused_reason: str | None
    source_path: str
    staging_path: str | None
    owns_staging: bool
    draft_id: str | None
    title: str
    caption: str
    duration_us: int | None
    bucket: str
    key: str
    size: int
    mtime_ns: int | None
    sha256: str | None
    part_size: int
    checksum_algorithm: str
    upload_id: str | None
    error: str | None
    notice: str | None
    webhook_status: str | None
    created_us: int
    updated_us: int
    completed_us: int | None
    source_size: int | None = None
    source_mtime_ns: int | None = None
    verified_us: int | None = None
    post_id: str | None = None        # a file of this post (studio.publish)
    post_final: bool = False          # held until every other file of its post is verified
    content_type: str | None = None   # sent with the object; None: guessed from the key
    cache_control: str | None = None
    bytes_done: int = 0

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def part_range(self, number: int) -> tuple[int, int]:
        """(offset, length) of part ``number`` (1-based)."""
        offset = (number - 1) * self.part_size
        return offset, min(self.part_size, self.size - offset)

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["bytes_total"] = self.size
        return d


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str
    checksum: str | None
    md5: str | None
    sha256: str | None = None   # hex sha256 of the bytes read and sent for this part


_JOB_COLUMNS = [f.name for f in fields(UploadJob) if f.name != "bytes_done"]


def _to_job(row: JobRow, done: int) -> UploadJob:
    return UploadJob(**{c: getattr(row, c) for c in _JOB_COLUMNS}, bytes_done=done)


class JobStore:
    def __init__(self, engine):  # noqa: ANN001 - sqlalchemy Engine
        self.engine = engine
        # writes begin IMMEDIATE with a bounded wait (studio.db.engine), so two processes or many
        # upload lanes never hit SQLITE_BUSY_SNAPSHOT on a read-then-write transaction
        self.writes = engine.execution_options(studio_write=True)

    def create(self, **values) -> UploadJob:
        # One statement: the queue position is taken inside the INSERT, so concurrent writers never
        # meet a read-then-write upgrade (which SQLite in WAL mode refuses at once with "locked").
        now = now_us()
        next_seq = select(func.coalesce(func.max(JobRow.seq), 0) + 1).scalar_subquery()
        with Session(self.writes) as s, s.begin():
            s.execute(insert(JobRow).values(seq=next_seq, created_us=now, updated_us=now, **values))
        return self.get(values["id"])

    def create_many(self, rows: list[dict]) -> None:
        """Several jobs in one transaction, queued in the order given (a post's files: all or none)."""
        now = now_us()
        with Session(self.writes) as s, s.begin():
            seq = int(s.scalar(select(func.coalesce(func.max(JobRow.seq), 0))))
            for i, values in enumerate(rows, 1):
                s.execute(insert(JobRow).values(seq=seq + i, created_us=now, updated_us=now, **values))

    def runnable(self, target: str | None = None) -> list[UploadJob]:
        """The runnable jobs (of ``target``) in queue order, without a post's final files while another
        file of that post is not verified yet (a half-uploaded post is never reachable)."""
        jobs = self.list(states=RUNNABLE, target=target)
        held = {j.post_id for j in jobs if j.post_final}
        if not held:
            return jobs
        with Session(self.engine) as s:
            waiting = set(s.scalars(select(JobRow.post_id).where(
                JobRow.post_id.in_(held), JobRow.post_final.is_(False), JobRow.state != COMPLETED)).all())
        return [j for j in jobs if not (j.post_final and j.post_id in waiting)]

    def for_post(self, post_id: str) -> list[UploadJob]:
        with Session(self.engine) as s:
            rows = s.scalars(select(JobRow).where(JobRow.post_id == post_id).order_by(JobRow.seq)).all()
            done = dict(s.execute(select(PartRow.job_id, func.sum(PartRow.size)).join(
                JobRow, JobRow.id == PartRow.job_id).where(JobRow.post_id == post_id).group_by(PartRow.job_id)).all())
            return [_to_job(r, int(done.get(r.id) or 0)) for r in rows]

    def get(self, job_id: str) -> UploadJob:
        with Session(self.engine) as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(job_id)
            return _to_job(row, self._done(s, job_id))

    def state(self, job_id: str) -> str | None:
        with Session(self.engine) as s:
            return s.scalar(select(JobRow.state).where(JobRow.id == job_id))

    def list(self, *, states: tuple[str, ...] | None = None, target: str | None = None) -> list[UploadJob]:
        with Session(self.engine) as s:
            q = select(JobRow).order_by(JobRow.seq)
            if states:
                q = q.where(JobRow.state.in_(states))
            if target:
                q = q.where(JobRow.target_name == target)
            rows = s.scalars(q).all()
            if not rows:
                return []
            sums = select(PartRow.job_id, func.sum(PartRow.size)).group_by(PartRow.job_id)
            if len(rows) <= 500:   # the runner asks for the few runnable jobs often: not every part ever sent
                sums = sums.where(PartRow.job_id.in_([r.id for r in rows]))
            done = dict(s.execute(sums).all())
            return [_to_job(r, int(done.get(r.id) or 0)) for r in rows]

    @staticmethod
    def _done(s: Session, job_id: str) -> int:
        return int(s.scalar(select(func.coalesce(func.sum(PartRow.size), 0)).where(PartRow.job_id == job_id)))

    def update(self, job_id: str, *, only_if: tuple[str, ...] | None = None, **values) -> bool:
        """Set columns; with ``only_if`` only when the job is in one of those states. Returns whether it did."""
        with Session(self.writes) as s, s.begin():
            q = update(JobRow).where(JobRow.id == job_id)
            if only_if:
                q = q.where(JobRow.state.in_(only_if))
            return s.execute(q.values(updated_us=now_us(), **values)).rowcount > 0

    def complete(self, job_id: str, outbox=None, **values) -> bool:  # noqa: ANN001 - models.OutboxRow | None
        """Mark a job COMPLETED (only from a runnable state) and queue its webhook in the same transaction."""
        with Session(self.writes) as s, s.begin():
            done = s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.state.in_(RUNNABLE))
                             .values(state=COMPLETED, updated_us=now_us(), **values)).rowcount > 0
            if done and outbox is not None:
                s.add(outbox)
            return done

    def parts(self, job_id: str) -> dict[int, Part]:
        with Session(self.engine) as s:
            rows = s.scalars(select(PartRow).where(PartRow.job_id == job_id)).all()
            return {r.part_number: Part(r.part_number, r.size, r.etag, r.checksum, r.md5, r.sha256) for r in rows}

    def add_part(self, job_id: str, part: Part) -> None:
        """Record an acknowledged part (called from several part threads at once: a single upsert)."""
        self.add_parts(job_id, [part])

    def add_parts(self, job_id: str, parts: list[Part]) -> None:
        """Record acknowledged parts in one transaction (the parts that were acknowledged together)."""
        if not parts:
            return
        now = now_us()
        rows = [{"job_id": job_id, "part_number": p.number, "size": p.size, "etag": p.etag, "checksum": p.checksum,
                 "md5": p.md5, "sha256": p.sha256, "acked_us": now} for p in parts]
        stmt = sqlite_insert(PartRow)
        stmt = stmt.on_conflict_do_update(index_elements=["job_id", "part_number"],
                                          set_={k: stmt.excluded[k] for k in rows[0]
                                                if k not in ("job_id", "part_number")})
        with Session(self.writes) as s, s.begin():
            s.execute(stmt, rows)

    def drop_parts(self, job_id: str, numbers: list[int] | None = None) -> None:
        with Session(self.writes) as s, s.begin():
            q = delete(PartRow).where(PartRow.job_id == job_id)
            if numbers is not None:
                q = q.where(PartRow.part_number.in_(numbers))
            s.execute(q)

    def owned_upload_ids(self) -> set[str]:
        with Session(self.engine) as s:
            return {u for u in s.scalars(select(JobRow.upload_id).where(
                JobRow.upload_id.is_not(None), JobRow.state.in_(UNFINISHED + (FAILED,)))).all()}

    def delete(self, job_id: str) -> None:
        with Session(self.writes) as s, s.begin():
            s.execute(delete(PartRow).where(PartRow.job_id == job_id))
            s.execute(delete(JobRow).where(JobRow.id == job_id))

    # -- the multipart uploads this profile created (what the sweeper may abort)
    def record_intent(self, job: UploadJob) -> int:
        """Written before CreateMultipartUpload: a crash before the id is committed still leaves a trace."""
        with Session(self.writes) as s, s.begin():
            row = CreatedUploadRow(job_id=job.id, target_name=job.target_name, bucket=job.bucket, key=job.key,
                                   intent_us=now_us())
            s.add(row)
            s.flush()
            return row.id

    def record_created(self, intent_id: int, job_id: str, upload_id: str) -> None:
        """The id, and the job's ownership of it, in one transaction."""
        with Session(self.writes) as s, s.begin():
            s.execute(update(CreatedUploadRow).where(CreatedUploadRow.id == intent_id).values(upload_id=upload_id))
            s.execute(update(JobRow).where(JobRow.id == job_id).values(upload_id=upload_id, updated_us=now_us()))

    def created_uploads(self, bucket: str) -> list[CreatedUploadRow]:
        with Session(self.engine) as s:
            rows = s.scalars(select(CreatedUploadRow).where(CreatedUploadRow.bucket == bucket,
                                                            CreatedUploadRow.aborted_us.is_(None))).all()
            s.expunge_all()
            return list(rows)

    def mark_aborted(self, row_ids: list[int]) -> None:
        if not row_ids:
            return
        with Session(self.writes) as s, s.begin():
            s.execute(update(CreatedUploadRow).where(CreatedUploadRow.id.in_(row_ids)).values(aborted_us=now_us()))
