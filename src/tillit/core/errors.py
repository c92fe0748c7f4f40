"""One error tree for every layer of Tillit.

Map::

    TillitError                 base; ``status`` is the HTTP status the web layer uses
    ├── DataError               bad input data; names file, row (or JSON path) and field
    ├── NotFound                a requested thing does not exist (404)
    ├── PermissionDenied        the current role may not do this (403)
    ├── Conflict                the request clashes with stored state, e.g. a locked
    │                           pre-registration or a conflicting duplicate (409)
    └── EstimationError         an estimator cannot run on this input (422)

The web layer maps these in one handler to ``{"ok": false, "error": ..., "status": ...}``
(or an HTML page); the CLI maps them to a one-line message and exit code ``status // 100``.
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DataError",
    "EstimationError",
    "NotFound",
    "PermissionDenied",
    "TillitError",
]


class TillitError(Exception):
    """Base of all errors Tillit raises on purpose."""

    status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        """Return the one JSON error shape used by the API and the CLI."""
        return {"ok": False, "error": self.message, "status": self.status}


class DataError(TillitError):
    """Input data is malformed.

    Parameters
    ----------
    message
        What is wrong, in words a user can act on.
    file
        The file (or upload name) the data came from, if any.
    row
        1-based data row (CSV, header excluded) or a JSON path such as ``values[3].values[0]``.
    field
        The column or JSON key at fault.
    """

    status = 422

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        where = []
        if file:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}" if isinstance(row, int) else str(row))
        if field:
            where.append(f"field '{field}'")
        full = f"{', '.join(where)}: {message}" if where else message
        super().__init__(full)
        self.detail = message

    def to_dict(self) -> dict[str, object]:
        """Return the error shape with the location fields added."""
        d = super().to_dict()
        d.update({"file": self.file, "row": self.row, "field": self.field})
        return d


class NotFound(TillitError):
    """A requested record does not exist."""

    status = 404


class PermissionDenied(TillitError):
    """The current user's role does not allow this."""

    status = 403


class Conflict(TillitError):
    """The request clashes with stored state (locked registration, conflicting value)."""

    status = 409


class EstimationError(TillitError):
    """An estimator cannot be run on this input (too few units, no controls, ...)."""

    status = 422
