"""Deferred jobs kept in SQL when jobs run in the bot's process (no Redis): a restart
resumes them, and a key keeps each from being scheduled twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from twin_core.memory.db import Database
from twin_core.memory.models import JobStatus, ScheduledJob


class JobRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _session(self) -> Session:
        return self.database.session()

    def schedule(
        self, key: str, name: str, args: list[Any], run_at: datetime, *, queue: str = "bot"
    ) -> bool:
        """Keep a deferred job; False when a job with this key was already scheduled."""
        with self._session() as session:
            session.add(ScheduledJob(key=key, name=name, args=args, run_at=run_at, queue=queue))
            try:
                session.commit()
            except sa.exc.IntegrityError:
                return False
            return True

    def pending(self, queue: str | None = None) -> list[ScheduledJob]:
        query = select(ScheduledJob).where(ScheduledJob.status == JobStatus.PENDING)
        if queue is not None:
            query = query.where(ScheduledJob.queue == queue)
        with self._session() as session:
            return list(session.exec(query.order_by(col(ScheduledJob.run_at))))

    def get(self, key: str) -> ScheduledJob | None:
        with self._session() as session:
            return session.exec(select(ScheduledJob).where(ScheduledJob.key == key)).first()

    def retry(self, job_id: int, run_at: datetime, error: str) -> None:
        """Count a failed attempt and run the job again at `run_at`."""
        with self._session() as session:
            job = session.get(ScheduledJob, job_id)
            if job is None:
                return
            job.attempts += 1
            job.run_at = run_at
            job.last_error = error[:2000]
            session.add(job)
            session.commit()

    def finish(self, job_id: int, status: JobStatus, error: str = "") -> None:
        with self._session() as session:
            job = session.get(ScheduledJob, job_id)
            if job is None:
                return
            job.status = status
            job.attempts += 1
            job.last_error = error[:2000]
            session.add(job)
            session.commit()
