"""Uploads as jobs: does the server keep answering while a large upload is imported?

Run ``.venv/bin/python benchmarks/bench_jobs.py [--base-src DIR] [--runs 3]``.

Whole processes, side by side in one run, on the real Kolada panel
(``../shared/data/kolada_panel_2024/kolada_selected_long.csv``, 574,742 rows, 16 MB):

* ``cli``: ``tillit import FILE`` into a fresh SQLite database (metadata and geography
  loaded first, not timed), this tree and, with ``--base-src``, the tree before #14
  (``git archive 58f7d96 src | tar -x -C DIR``), alternated;
* ``server``: ``tillit serve`` (one uvicorn process) on a fresh SQLite database; an
  admin uploads the file with ``POST /api/v1/import`` while another client asks
  ``GET /api/v1/session`` every 100 ms. Reported: the upload request's own time, the
  time until the import is in the database (this tree: the job is done; base: the
  response has come back), and the latency of the other client's requests during that
  time (median, p95, max) beside its idle latency.

Prints a table and appends it, with machine, load and date, to
``benchmarks/results/jobs.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PANEL = DATA / "kolada_panel_2024" / "kolada_selected_long.csv"
META = DATA / "kolada_metadata_v3_2026" / "kpi.csv"
RESULTS = ROOT / "benchmarks" / "results" / "jobs.md"
PREPARE = """
import sys
from tillit.services import auth, catalog
from tillit.store.db import make_engine, upgrade
e = make_engine(sys.argv[1]); upgrade(e); catalog.seed_geography(e)
catalog.import_kpi_metadata(e, open(sys.argv[2], "rb").read(), sys.argv[2])
if len(sys.argv) > 3:
    auth.create_user(e, "bench", "bench-password-1", "admin")
"""


def _env(src: Path | None, url: str, data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "TILLIT_DATABASE_URL": url, "TILLIT_DATA_DIR": str(data_dir)}
    env["TILLIT_SECRET_KEY"] = "bench-secret-" + "x" * 24
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def _prepare(src: Path | None, url: str, tmp: Path, user: bool) -> None:
    args = [sys.executable, "-c", PREPARE, url, str(META)] + (["user"] if user else [])
    subprocess.run(args, check=True, env=_env(src, url, tmp), capture_output=True)


def _cli(src: Path | None, tmp: Path) -> tuple[float, float]:
    """Seconds and peak MB of one ``tillit import`` process."""
    url = f"sqlite:///{tmp / 'cli.db'}"
    _prepare(src, url, tmp, user=False)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tillit.cli", "import", str(PANEL)],
        env=_env(src, url, tmp),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    if status != 0:
        raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "failed")
    return secs, usage.ru_maxrss / 1024


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sign_in(c: httpx.Client) -> str:
    page = c.get("/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form = {"username": "bench", "password": "bench-password-1"}
    c.post("/signin", data={**form, "csrf_token": token.group(1)})
    return str(c.get("/api/v1/session").json()["csrf_token"])


def _ping(base: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=120) as c:
        while not stop.is_set():
            t = time.perf_counter()
            c.get("/api/v1/session")
            out.append(time.perf_counter() - t)
            stop.wait(0.1)


def _wait_done(c: httpx.Client, body: dict[str, object]) -> None:
    url = body.get("status_url")
    if not url:  # the base answers with the report itself
        return
    while c.get(str(url)).json()["status"] not in ("done", "failed"):
        time.sleep(0.2)


def _server(src: Path | None, tmp: Path) -> dict[str, float]:
    url = f"sqlite:///{tmp / 'srv.db'}"
    _prepare(src, url, tmp, user=True)
    port = _port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tillit.cli", "serve", "--port", str(port), "--no-demo"],
        env=_env(src, url, tmp),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/api/v1/session", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        idle: list[float] = []
        stop = threading.Event()
        pinger = threading.Thread(target=_ping, args=(base, stop, idle))
        pinger.start()
        time.sleep(3)
        stop.set()
        pinger.join()
        busy: list[float] = []
        stop = threading.Event()
        with httpx.Client(base_url=base, timeout=600) as c:
            token = _sign_in(c)
            pinger = threading.Thread(target=_ping, args=(base, stop, busy))
            pinger.start()
            t0 = time.perf_counter()
            with PANEL.open("rb") as fh:
                r = c.post(
                    "/api/v1/import",
                    files={"file": (PANEL.name, fh, "text/csv")},
                    headers={"X-CSRF-Token": token},
                )
            t_req = time.perf_counter() - t0
            r.raise_for_status()
            _wait_done(c, r.json())
            t_done = time.perf_counter() - t0
            stop.set()
            pinger.join()
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()

    def q(xs: list[float], p: float) -> float:
        return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000

    return {
        "request_s": t_req,
        "done_s": t_done,
        "idle_p50_ms": statistics.median(idle) * 1000,
        "busy_p50_ms": statistics.median(busy) * 1000,
        "busy_p95_ms": q(busy, 0.95),
        "busy_max_ms": max(busy) * 1000,
        "n_busy": float(len(busy)),
    }


def main() -> None:
    """Run both measurements and append the results."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-src", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    trees: list[tuple[str, Path | None]] = [("this tree", ROOT / "src")]
    if a.base_src is not None:
        trees.append(("before #14 (58f7d96)", a.base_src))
    cli: dict[str, list[tuple[float, float]]] = {n: [] for n, _ in trees}
    srv: dict[str, list[dict[str, float]]] = {n: [] for n, _ in trees}
    loads = []
    for _ in range(a.runs):
        for name, src in trees:
            with tempfile.TemporaryDirectory() as d:
                cli[name].append(_cli(src, Path(d)))
            with tempfile.TemporaryDirectory() as d:
                srv[name].append(_server(src, Path(d)))
            loads.append(os.getloadavg()[0])
    lines = [
        f"## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, real Kolada panel "
        f"(574,742 rows, 16 MB), {a.runs} runs alternated",
        "",
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; 1-min load during the runs "
        f"{min(loads):.1f}-{max(loads):.1f} (shared machine)",
        "",
        "| tree | `tillit import` s (median [min, max]) | peak MB | upload request s "
        "| until imported s | other client idle p50 ms | during import p50 / p95 / "
        "max ms |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for name, _ in trees:
        secs = [s for s, _m in cli[name]]
        mem = max(m for _s, m in cli[name])
        s = srv[name]

        def med(k: str, s: list[dict[str, float]] = s) -> float:
            return statistics.median(x[k] for x in s)

        lines.append(
            f"| {name} | {statistics.median(secs):.1f} [{min(secs):.1f}, "
            f"{max(secs):.1f}] | {mem:.0f} | {med('request_s'):.2f} | "
            f"{med('done_s'):.1f} | {med('idle_p50_ms'):.0f} | "
            f"{med('busy_p50_ms'):.0f} / {med('busy_p95_ms'):.0f} / "
            f"{max(x['busy_max_ms'] for x in s):.0f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    head = (
        "" if RESULTS.exists() else "# Uploads as jobs (benchmarks/bench_jobs.py)\n\n"
    )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(head + text + "\n")


if __name__ == "__main__":
    main()
