"""A background job as the services and pages see it (``tillit.services.jobs``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["JOB_VERSION", "Job", "JobStatus"]

JobStatus = Literal["queued", "running", "done", "failed"]
JOB_VERSION = 1


@dataclass(frozen=True)
class Job:
    """One job of the queue: what it is, where it stands, what came of it.

    ``done`` of ``total`` is its progress (``total`` 0: not known yet); ``result`` is
    the kind's JSON document once ``status`` is ``done``; ``error`` says why it
    ``failed``.  ``attempts`` counts the runs that started (a worker that died counts).
    """

    id: int
    kind: str
    status: JobStatus
    payload: dict[str, Any]
    result: dict[str, Any] | None
    error: str
    done: int
    total: int
    message: str
    attempts: int
    max_attempts: int
    worker: str
    owner_user_id: int | None
    created_at: datetime | None
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        """Done or failed: nothing more will happen."""
        return self.status in ("done", "failed")

    @property
    def percent(self) -> float | None:
        """Progress in percent (None while the total is unknown)."""
        if self.status == "done":
            return 100.0
        if self.total <= 0:
            return None
        return max(0.0, min(100.0, 100.0 * self.done / self.total))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        """From a ``jobs`` row (payload and result as stored JSON text)."""
        return cls(
            id=int(row["id"]),
            kind=str(row["kind"]),
            status=row["status"],
            payload=json.loads(row["payload"] or "{}"),
            result=json.loads(row["result"]) if row["result"] else None,
            error=str(row["error"] or ""),
            done=int(row["done"] or 0),
            total=int(row["total"] or 0),
            message=str(row["message"] or ""),
            attempts=int(row["attempts"] or 0),
            max_attempts=int(row["max_attempts"] or 0),
            worker=str(row["worker"] or ""),
            owner_user_id=row["owner_user_id"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            heartbeat_at=row["heartbeat_at"],
            finished_at=row["finished_at"],
        )

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON shape (``version`` 1), as ``GET /api/v1/jobs/{id}`` answers."""

        def when(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat(timespec="seconds")

        return {
            "version": JOB_VERSION,
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "message": self.message,
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "created_at": when(self.created_at),
            "started_at": when(self.started_at),
            "finished_at": when(self.finished_at),
        }
