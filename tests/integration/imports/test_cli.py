"""The data and Kolada commands through click's CliRunner, on a temporary SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner

from tillit.cli import kolada as kolada_cli
from tillit.cli.main import main
from tillit.sources.kolada import KoladaClient

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data" / "kolada"

KPI_CSV = (
    "id,title,description,is_divided_by_gender,municipality_type,operating_area,has_ou_data\n"
    'N00090,"Sjukfrånvaro totalt bland anställda, kommun, andel (%)",Def.,True,K,'
    '"Kommunen, övergripande",False\n'
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TILLIT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TILLIT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_db_import_export_round_trip(cli: CliRunner, tmp_path: Path) -> None:
    r = cli.invoke(main, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    r = cli.invoke(main, ["db", "seed"])
    assert r.exit_code == 0 and "290 municipalities" in r.output
    (tmp_path / "kpi.csv").write_text(KPI_CSV, encoding="utf-8")
    (tmp_path / "v.csv").write_text(
        "kpi;municipality;period;gender;value\nN00090;0180;2020;T;5,5\nN00090;0180;2020;K;6,25\n",
        encoding="utf-8",
    )
    r = cli.invoke(main, ["import", "v.csv"])
    assert (
        r.exit_code == 2
        and "Error: " in r.output
        and "unknown indicator 'N00090'" in r.output
    )
    r = cli.invoke(main, ["import", "v.csv", "--metadata", "kpi.csv"])
    assert r.exit_code == 0, r.output
    assert "2 rows: 2 new, 0 updated, 0 unchanged" in r.output
    r = cli.invoke(main, ["import", "v.csv", "--format", "csv"])
    assert "0 new, 0 updated, 2 unchanged" in r.output and "same content" in r.output
    r = cli.invoke(main, ["export", "--indicator", "N00090", "-o", "out.csv"])
    assert r.exit_code == 0, r.output
    out = pd.read_csv(tmp_path / "out.csv", dtype={"org_code": str})
    assert out[["org_code", "gender", "value"]].values.tolist() == [
        ["0180", "K", 6.25],
        ["0180", "T", 5.5],
    ]
    r = cli.invoke(
        main,
        [
            "export",
            "--indicator",
            "N00090",
            "--gender",
            "T",
            "--format",
            "parquet",
            "-o",
            "out.parquet",
        ],
    )
    assert r.exit_code == 0, r.output
    assert pd.read_parquet(tmp_path / "out.parquet")["value"].tolist() == [5.5]
    r = cli.invoke(main, ["export", "--indicator", "NOPE", "-o", "-"])
    assert r.exit_code == 3 and "Error: no indicator 'NOPE'" in r.output


def test_bad_file_is_one_line_and_exit_2(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_bytes(
        "indicator,municipality,period,value\nX1,Malmö,2020,1\n".encode("latin-1")
    )
    r = cli.invoke(main, ["import", "bad.csv"])
    assert r.exit_code == 2
    assert (
        r.output.startswith("Error: ") and "bad.csv" in r.output and "UTF-8" in r.output
    )
    assert "Traceback" not in r.output
    r = cli.invoke(main, ["import", "missing.csv"])
    assert r.exit_code == 2 and "file not found" in r.output


def test_import_kolada_metadata_and_groups(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "kpi.csv").write_text(KPI_CSV, encoding="utf-8")
    (tmp_path / "groups.json").write_text(
        (DATA / "municipality_groups.json").read_text("utf-8"), "utf-8"
    )
    r = cli.invoke(
        main, ["import-kolada-metadata", "kpi.csv", "--groups", "groups.json"]
    )
    assert r.exit_code == 0, r.output
    assert "indicators: 1 created or changed" in r.output
    assert "peer groups: 2 created or changed" in r.output


def _mock_client(url: str | None = None) -> KoladaClient:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/v3/data/kpi/N00945"):
            page = request.url.params.get("page", "1")
            return httpx.Response(
                200,
                json=json.loads(
                    (DATA / f"data_N00945_page{page}.json").read_text("utf-8")
                ),
            )
        if path == "/v3/kpi/N00945":
            return httpx.Response(
                200, json=json.loads((DATA / "kpi_N00945.json").read_text("utf-8"))
            )
        return httpx.Response(404)

    return KoladaClient(
        url, transport=httpx.MockTransport(handler), sleep=lambda s: None
    )


def test_kolada_fetch_with_recorded_responses(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kolada_cli, "KoladaClient", _mock_client)
    args = [
        "kolada",
        "fetch",
        "--kpi",
        "N00945",
        "--municipality",
        "0180",
        "--municipality",
        "1280",
        "--municipality",
        "1480",
        "--from",
        "2010",
        "--to",
        "2020",
    ]
    r = cli.invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "33 rows: 33 new" in r.output
    r = cli.invoke(main, args)
    assert "0 new, 0 updated, 33 unchanged" in r.output
    r = cli.invoke(
        main, ["export", "--indicator", "N00945", "--municipality", "0180", "-o", "-"]
    )
    out = r.output.splitlines()
    assert out[0] == "indicator,org_code,org_name,county_code,year,period,gender,value"
    assert out[1] == "N00945,0180,Stockholm,01,2010,2010,T,36.92185942"


def test_kolada_fetch_offline(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(url: str | None = None) -> KoladaClient:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("Name or service not known", request=request)

        return KoladaClient(
            url, transport=httpx.MockTransport(handler), sleep=lambda s: None
        )

    monkeypatch.setattr(kolada_cli, "KoladaClient", offline)
    r = cli.invoke(
        main, ["kolada", "fetch", "--kpi", "N00945", "--from", "2010", "--to", "2024"]
    )
    assert r.exit_code == 2
    assert "Error: cannot reach api.kolada.se" in r.output and "network" in r.output
    r = cli.invoke(
        main, ["kolada", "fetch", "--kpi", "N00945", "--from", "2024", "--to", "2010"]
    )
    assert r.exit_code == 2 and "--to" in r.output
