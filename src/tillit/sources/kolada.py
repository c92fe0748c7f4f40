"""A small client for the public Kolada API (https://api.kolada.se, v3 by default).

It needs the network. Tests inject ``httpx.MockTransport`` with recorded responses, so no
test touches the internet. Every list endpoint is paged: the client follows ``next_page``
(v2) or ``next_url`` (v3) until there is none. Requests time out, and 429/5xx answers and
connection errors are retried with exponential backoff (``Retry-After`` is honoured).

Endpoints used
--------------
``/kpi`` and ``/kpi/{ids}``                     indicator metadata
``/municipality``                               municipalities, regions and the country
``/municipality_groups``                        groups (SKR, "liknande kommuner", ...)
``/ou?municipality={id}``                       organisational units
``/data/kpi/{kpis}/municipality/{ids}/year/{years}``   values
``/oudata/kpi/{kpis}/ou/{ids}/year/{years}``           values of organisational units
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from tillit.core.errors import TillitError

__all__ = ["DEFAULT_BASE_URL", "KoladaClient", "KoladaUnavailable"]

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
_RETRY_STATUS = {429, 500, 502, 503, 504}
_KPI_CHUNK = 20
_ID_CHUNK = 50


class KoladaUnavailable(TillitError):
    """The Kolada API could not be reached or kept failing."""

    status = 503


def _chunks(items: Sequence[str], n: int) -> Iterator[list[str]]:
    for k in range(0, len(items), n):
        yield list(items[k : k + n])


class KoladaClient:
    """Kolada API client.

    Parameters
    ----------
    base_url
        API root; default ``$TILLIT_KOLADA_URL`` or :data:`DEFAULT_BASE_URL`.
    transport
        An httpx transport (tests pass ``httpx.MockTransport``).
    timeout
        Seconds per request.
    retries
        Extra attempts after a 429/5xx answer or a connection error.
    backoff
        First wait in seconds; doubles on each retry (capped at 30 s).
    per_page
        Page size asked for (Kolada allows up to 5000).
    sleep
        Used for waiting (tests pass a no-op).

    Examples
    --------
    >>> with KoladaClient() as k:  # doctest: +SKIP
    ...     pages = list(k.values(["N00945"], ["0180"], range(2010, 2025)))
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        per_page: int = 5000,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        url = base_url or os.environ.get("TILLIT_KOLADA_URL") or DEFAULT_BASE_URL
        self.base_url = url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.per_page = per_page
        self._sleep = sleep
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": "tillit (+https://github.com/tillit)"},
            follow_redirects=True,
        )

    def __enter__(self) -> KoladaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        delay = min(self.backoff * 2**attempt, 30.0)
        if response is not None:
            ra = response.headers.get("Retry-After", "")
            if ra.isdigit():
                delay = min(float(ra), 60.0)
        self._sleep(delay)

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """GET a URL (absolute, or a path below the base URL) and decode its JSON."""
        if not url.startswith(("http://", "https://")):
            url = f"{self.base_url}/{url.lstrip('/')}"
        host = httpx.URL(url).host
        last = ""
        for attempt in range(self.retries + 1):
            response = None
            try:
                response = self._http.get(url, params=params)
            except httpx.TimeoutException as exc:
                last = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code not in _RETRY_STATUS:
                    break
                last = f"HTTP {response.status_code}"
            if attempt < self.retries:
                self._wait(attempt, response)
        else:
            raise KoladaUnavailable(
                f"cannot reach {host} ({last}) after {self.retries + 1} attempts; "
                "fetching from Kolada needs network access (set TILLIT_KOLADA_URL for "
                "a mirror)"
            )
        if response.status_code == 404:
            raise KoladaUnavailable(f"{host} has no {httpx.URL(url).path} (HTTP 404)")
        if response.status_code >= 400:
            raise KoladaUnavailable(
                f"{host} answered HTTP {response.status_code} for {url}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise KoladaUnavailable(f"{host} sent a response that is not JSON") from exc

    def pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every page of a paged endpoint, following ``next_page``/``next_url``."""
        query = {"per_page": self.per_page, **(params or {})}
        doc = self.get_json(path, query)
        seen = set()
        while True:
            yield doc
            nxt = (
                doc.get("next_page") or doc.get("next_url")
                if isinstance(doc, dict)
                else None
            )
            if not nxt or nxt in seen:
                return
            seen.add(nxt)
            doc = self.get_json(nxt)

    def _values(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        out: list[Any] = []
        for doc in self.pages(path, params):
            vals = doc.get("values") if isinstance(doc, dict) else None
            if not isinstance(vals, list):
                raise KoladaUnavailable(f"unexpected response from {path}: no 'values'")
            out += vals
        return out

    def kpis(self, ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """KPI metadata: all KPIs, or those with the given ids."""
        if not ids:
            return self._values("kpi")
        return [
            v
            for part in _chunks(list(ids), _KPI_CHUNK)
            for v in self._values(f"kpi/{','.join(part)}")
        ]

    def municipalities(self) -> list[dict[str, Any]]:
        """Municipalities (type K), regions and the country (type L)."""
        return self._values("municipality")

    def municipality_groups(self) -> list[dict[str, Any]]:
        """Municipality groups with their members."""
        return self._values("municipality_groups")

    def ous(self, municipality: str | None = None) -> list[dict[str, Any]]:
        """Organisational units, optionally of one municipality."""
        return self._values(
            "ou", {"municipality": municipality} if municipality else None
        )

    def ou_metadata(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Metadata (id, title, municipality) of the organisational units ``ids``."""
        return self._values(f"ou/{','.join(ids)}") if ids else []

    def values(
        self,
        kpis: Sequence[str],
        municipalities: Sequence[str] | None = None,
        years: Sequence[int] | range | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Data entries for kpis x municipalities x years, one list per page.

        ``municipalities=None`` asks for every municipality and region.
        """
        yr = ",".join(str(y) for y in years) if years is not None else ""
        for kp in _chunks(list(kpis), _KPI_CHUNK):
            groups = (
                _chunks(list(municipalities), _ID_CHUNK) if municipalities else [None]
            )
            for mp in groups:
                path = f"data/kpi/{','.join(kp)}"
                if mp:
                    path += f"/municipality/{','.join(mp)}"
                if yr:
                    path += f"/year/{yr}"
                for doc in self.pages(path):
                    yield list(doc.get("values", []))

    def ou_values(
        self, kpis: Sequence[str], ous: Sequence[str], years: Sequence[int] | range
    ) -> Iterator[list[dict[str, Any]]]:
        """Data entries of organisational units, one list per page."""
        yr = ",".join(str(y) for y in years)
        for kp in _chunks(list(kpis), _KPI_CHUNK):
            for op in _chunks(list(ous), _ID_CHUNK):
                path = f"oudata/kpi/{','.join(kp)}/ou/{','.join(op)}/year/{yr}"
                for doc in self.pages(path):
                    yield list(doc.get("values", []))
