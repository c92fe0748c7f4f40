"""``tillit compensation``: simulate, compare and calibrate home-care compensation models.

The contract scripts rely on (``docs/compensation.md``)::

    tillit compensation simulate --spec FILE [--recipients FILE | --municipality CODE]
        [--draws N] [--seed S] [--format table|json]

JSON: ``models``, a list with ``name``, ``basis``, ``cost_total``,
``cost_per_recipient``, ``provider_margin``, ``delivered_share``,
``registration_hours``, ``registration_cost`` and, when draws > 1, ``ci_low`` and
``ci_high`` holding the same keys.  A bad spec is refused with the field's path and
exit code 2.  Without ``--recipients`` or ``--municipality`` the demo population is
used (and the output says so).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from tillit.core.errors import DataError
from tillit.core.results import jsonable

__all__ = ["register"]


def open_engine() -> Any:
    """The database of the settings (imported on use: most commands need none)."""
    from tillit.cli.data import open_engine as _open

    return _open()


def progress_bar(label: str, unit: str) -> Any:
    """The CLI's progress bar (``tillit.cli.progress``; imported on use)."""
    from tillit.cli.progress import progress_bar as _bar

    return _bar(label, unit)


_file = click.Path(dir_okay=False, path_type=Path)
_dir = click.Path(file_okay=False, path_type=Path)
_LANG = (
    os.environ.get("TILLIT_LANG", "en")
    if os.environ.get("TILLIT_LANG") in ("sv", "en")
    else "en"
)


def _lang_option(f: Any) -> Any:
    return click.option("--lang", type=click.Choice(["sv", "en"]), default=_LANG, show_default=True,
                        help="Language of the table (JSON has codes).")(f)  # fmt: skip


def _fmt_option(f: Any) -> Any:
    return click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                        help="Output for people (table) or scripts (json).")(f)  # fmt: skip


def _population(
    recipients: Path | None,
    municipality: str | None,
    kolada: Path | None,
    year: int | None,
    seed: int,
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    from tillit.services import compensation as cs

    if recipients is not None and municipality:
        raise DataError(
            "give --recipients or --municipality, not both", field="--recipients"
        )
    if recipients is not None:
        from tillit.sources.compensation import read_recipients

        if not recipients.is_file():
            raise DataError("file not found", file=str(recipients))
        pop = read_recipients(recipients.read_bytes(), str(recipients), seed=seed)
        return pop, {"kind": "csv", "file": str(recipients), "is_demo": False}, {}
    if municipality:
        if kolada is not None:
            from tillit.sources.compensation import (
                kolada_homecare,
                municipality_indicators,
            )

            values = municipality_indicators(
                kolada_homecare(kolada), municipality.strip(), year
            )
            return cs.population_from_indicators(values, seed=seed)
        return cs.population_for_municipality(
            open_engine(), municipality, year=year, seed=seed
        )
    pop, src = cs.demo_population(seed=2016)
    return pop, src, {}


def _table(out: dict[str, Any], lang: str) -> str:
    from tillit.domain.compensation.labels import BASIS_LABELS, FLAG_LABELS
    from tillit.i18n import format_kr, format_number, format_percent, tr

    cols = [tr(lang, "Model"), tr(lang, "Basis"), tr(lang, "Cost per recipient"), tr(lang, "Provider margin"),
            tr(lang, "Delivered share"), tr(lang, "Registration hours"), tr(lang, "Registration cost"), tr(lang, "Flags")]  # fmt: skip
    rows = []
    for m in out["models"]:

        def iv(key: str, f: Any, m: dict[str, Any] = m) -> str:
            v = str(f(m[key]))
            if "ci_low" in m:
                v += f" ({f(m['ci_low'][key])}–{f(m['ci_high'][key])})"
            return v

        flags = ", ".join(
            tr(lang, FLAG_LABELS[k]) for k, share in m["flags"].items() if share >= 0.5
        )
        rows.append([m["name"], tr(lang, BASIS_LABELS[m["basis"]]), iv("cost_per_recipient", lambda x: format_kr(x, lang)),
                     iv("provider_margin", lambda x: format_percent(x, lang)), iv("delivered_share", lambda x: format_percent(x, lang)),
                     format_number(m["registration_hours"], lang, 0), format_kr(m["registration_cost"], lang), flags or "–"])  # fmt: skip
    widths = [max(len(str(r[i])) for r in [cols, *rows]) for i in range(len(cols))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [cols, *rows]
    ]
    pop = out["population"]
    head = tr(
        lang,
        "{n} recipients, {d} draws, seed {s}",
        n=format_number(pop["n_recipients"], lang, 0),
        d=out["draws"],
        s=out["seed"],
    )
    if pop.get("is_demo"):
        head += " · " + tr(lang, "DEMO population (not a real municipality)")
    if out["draws"] > 1:
        head += " · " + tr(lang, "90 % intervals over the behaviour priors in brackets")
    notes = [f"- {n}" for n in out.get("notes", [])]
    return "\n".join([head, "", *lines, *(["", *notes] if notes else [])])


@click.group("compensation")
def compensation() -> None:
    """Compensation models for home care: simulate, compare, calibrate, register."""


@compensation.command("simulate")
@click.option(
    "--spec", "spec_path", required=True, type=_file, help="Spec file (YAML or JSON)."
)
@click.option(
    "--recipients",
    type=_file,
    default=None,
    help="Recipients CSV (one row per recipient).",
)
@click.option(
    "--municipality",
    default=None,
    help="Generate recipients from this municipality's Kolada indicators.",
)
@click.option(
    "--kolada",
    type=_file,
    default=None,
    help="Kolada long CSV to read the indicators from (default: the database).",
)
@click.option(
    "--year",
    type=click.IntRange(1990, 2100),
    default=None,
    help="Newest year of indicators to use.",
)
@click.option(
    "--draws",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Monte Carlo draws (1: prior means).",
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--tornado/--no-tornado",
    default=True,
    show_default=True,
    help="Add the one-at-a-time sensitivity.",
)
@_fmt_option
@_lang_option
def simulate_cmd(spec_path: Path, recipients: Path | None, municipality: str | None, kolada: Path | None,
                 year: int | None, draws: int, seed: int, tornado: bool, fmt: str, lang: str) -> None:  # fmt: skip
    """Simulate a year of every model in the spec for a population of recipients."""
    from tillit.services import compensation as cs
    from tillit.sources.compensation import read_spec

    spec = read_spec(spec_path)
    pop, src, over = _population(recipients, municipality, kolada, year, seed)
    with progress_bar("simulating", unit="blocks") as update:
        r = cs.run(
            spec,
            pop,
            src,
            draws=draws,
            seed=seed,
            overrides=over,
            with_tornado=tornado,
            progress=update,
        )
    out = r.to_dict()
    if fmt == "json":
        click.echo(
            json.dumps(jsonable(out), indent=2, ensure_ascii=False, allow_nan=False)
        )
    else:
        click.echo(_table(out, lang))


@compensation.command("compare")
@click.option(
    "--spec",
    "spec_path",
    required=True,
    type=_file,
    help="Spec file (YAML or JSON); the first model is the baseline.",
)
@click.option("--recipients", type=_file, default=None)
@click.option("--municipality", default=None)
@click.option("--kolada", type=_file, default=None)
@click.option("--year", type=click.IntRange(1990, 2100), default=None)
@click.option(
    "--draws", type=click.IntRange(2, 100_000), default=1000, show_default=True
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option(
    "--top",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Parameters per model in the tornado.",
)
@_fmt_option
@_lang_option
def compare_cmd(spec_path: Path, recipients: Path | None, municipality: str | None, kolada: Path | None,
                year: int | None, draws: int, seed: int, top: int, fmt: str, lang: str) -> None:  # fmt: skip
    """Each model against the first: paired cost differences, and which survive the priors."""
    from tillit.domain.compensation.labels import PARAMETER_LABELS
    from tillit.i18n import format_kr, format_percent, tr
    from tillit.services import compensation as cs
    from tillit.sources.compensation import read_spec

    spec = read_spec(spec_path)
    pop, src, over = _population(recipients, municipality, kolada, year, seed)
    with progress_bar("simulating", unit="blocks") as update:
        r = cs.run(
            spec, pop, src, draws=draws, seed=seed, overrides=over, progress=update
        )
    d = r.to_dict()
    tor = d["tornado_difference"]["models"]
    rows = []
    for i, m in enumerate(d["models"]):
        vb = m["vs_baseline"]["cost_per_recipient"]
        rows.append({"name": m["name"], "basis": m["basis"], "difference_cost_per_recipient": vb["mean"],
                     "ci_low": vb.get("ci_low"), "ci_high": vb.get("ci_high"), "probability_lower": vb.get("probability_lower"),
                     "cheapest_probability": m["cheapest_probability"], "tornado": [p for p in tor[i]["parameters"] if p["swing"] > 0][:top],
                     "difference_flips": tor[i]["difference_flips"]})  # fmt: skip
    out = {
        "baseline": d["baseline"],
        "draws": d["draws"],
        "seed": d["seed"],
        "population": d["population"],
        "models": rows,
    }
    if fmt == "json":
        click.echo(
            json.dumps(jsonable(out), indent=2, ensure_ascii=False, allow_nan=False)
        )
        return
    lines = [tr(lang, "Baseline: {name}", name=d["baseline"])]
    for row in rows[1:]:
        survive = (
            tr(lang, "survives every parameter's range")
            if not row["difference_flips"]
            else tr(
                lang,
                "changes sign with: {params}",
                params=", ".join(row["difference_flips"]),
            )
        )
        lines.append(
            f"{row['name']}: {format_kr(row['difference_cost_per_recipient'], lang)} "
            f"({format_kr(row['ci_low'], lang)}–{format_kr(row['ci_high'], lang)}) · "
            + tr(
                lang,
                "lower in {p} of draws",
                p=format_percent(row["probability_lower"], lang, 0),
            )
            + f" · {survive}"
        )
        for p in row["tornado"]:
            lines.append(
                f"    {tr(lang, PARAMETER_LABELS.get(p['parameter'], p['parameter']))}: "
                f"{format_kr(p['low'], lang)} … {format_kr(p['high'], lang)}"
            )
    click.echo("\n".join(lines))


@compensation.command("calibrate")
@click.option(
    "--homecare",
    type=_dir,
    default=None,
    help="The 2014-2017 home-care panel directory (kolada_homecare_2014_2017).",
)
@click.option(
    "--kolada",
    type=_file,
    default=None,
    help="Kolada long CSV (kolada_panel_2024/kolada_selected_long.csv).",
)
@click.option(
    "--recipients-per-municipality",
    "n",
    type=click.IntRange(100, 20_000),
    default=1000,
    show_default=True,
)
@click.option(
    "--seed", type=click.IntRange(0, 2**32 - 1), default=2016, show_default=True
)
@_fmt_option
@_lang_option
def calibrate_cmd(
    homecare: Path | None, kolada: Path | None, n: int, seed: int, fmt: str, lang: str
) -> None:
    """Fit the simulator to observed cost per recipient and report its errors."""
    from tillit.i18n import format_number, format_percent, tr
    from tillit.services.compensation import calibrate_data

    for p in (homecare, kolada):
        if p is not None and not p.exists():
            raise DataError("not found", file=str(p))
    with progress_bar("calibrating", unit="municipality-years") as update:
        out = calibrate_data(
            homecare_dir=homecare,
            kolada_file=kolada,
            n_recipients=n,
            seed=seed,
            progress=update,
        )
    rep = out["report"]
    if fmt == "json":
        click.echo(json.dumps(rep, indent=2, ensure_ascii=False, allow_nan=False))
        return
    lines = []
    for name, fit in rep["data"].items():
        lines.append(
            f"{name}: {fit['n_municipalities']} "
            + tr(lang, "municipalities")
            + f"; a = {format_number(fit['a'], lang, 3)}, b = {format_number(fit['b'], lang, 3)}"
        )
        for key, e in fit["errors"].items():
            lines.append(
                f"  {key:17s} n={e['n']:5d}  "
                + tr(lang, "median error")
                + f" {format_percent(e['median'], lang)}  5–95 %: {format_percent(e['p05'], lang)} … {format_percent(e['p95'], lang)}  MAPE {format_percent(e['mape'], lang)}"
            )
        if fit["team_size"]:
            lines.append(
                "  "
                + tr(
                    lang,
                    "staff pool from U21401: median {m} (quartiles {a}–{b})",
                    m=format_number(fit["team_size"]["median"], lang, 1),
                    a=format_number(fit["team_size"]["p25"], lang, 1),
                    b=format_number(fit["team_size"]["p75"], lang, 1),
                )
            )
    for a in rep.get("survey_associations", []):
        lines.append(
            f"  {a['item']}: slope {format_number(a['slope'], lang, 3)} (se {format_number(a['se'], lang, 3)}), R² {format_number(a['r2'], lang, 3)}, n={a['n']}"
        )
    click.echo("\n".join(lines))


@compensation.command("example")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
)
def example_cmd(fmt: str) -> None:
    """Print the demo spec (eight models) to start a spec from."""
    from tillit.services.demo.compensation import demo_spec

    spec = demo_spec()
    if fmt == "json":
        click.echo(json.dumps(spec, indent=2, ensure_ascii=False))
    else:
        import yaml

        click.echo(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), nl=False)


@compensation.group("register")
def register_group() -> None:
    """The register of each municipality's compensation model per year."""


@register_group.command("import")
@click.argument("file", type=_file)
def register_import(file: Path) -> None:
    """Import a register CSV as an administrator (all rows or none)."""
    from tillit.domain import access
    from tillit.domain.records import Actor
    from tillit.services.compensation import import_register

    if not file.is_file():
        raise DataError("file not found", file=str(file))
    rep = import_register(
        open_engine(), Actor(role=access.ADMIN), file.read_bytes(), str(file)
    )
    click.echo(
        f"{rep.written} rows written ({rep.replaced} replaced), {rep.municipalities} municipalities, {rep.years[0]}-{rep.years[1]}"
    )


@register_group.command("compare")
@click.option("--year", type=click.IntRange(1990, 2100), default=None)
@_fmt_option
def register_compare(year: int | None, fmt: str) -> None:
    """Model types beside their municipalities' indicators (descriptive, not causal)."""
    from tillit.services.compensation import compare

    out = compare(open_engine(), year=year)
    if fmt == "json":
        click.echo(json.dumps(jsonable(out), indent=2, ensure_ascii=False))
        return
    click.echo(
        "Descriptive only: municipalities choose their model, so differences are not effects of the models."
    )
    for r in out["rows"]:
        click.echo(
            f"{r['basis']:30s} {r['municipalities']:4d} municipalities  N21006 median {r['N21006_median']}"
        )


def register(main: click.Group) -> None:
    """Add ``tillit compensation`` to the main command."""
    main.add_command(compensation)
