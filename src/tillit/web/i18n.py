"""Interface texts in Swedish (default) and English.

Templates call ``t("key")``; a missing key falls back to Swedish, then to the key itself,
so a half-translated page still renders.
"""

from __future__ import annotations

__all__ = ["LANGS", "TEXTS", "translate"]

LANGS = ("sv", "en")

TEXTS: dict[str, tuple[str, str]] = {
    "app_tagline": (
        "Uppföljning av offentlig verksamhet byggd på tillit och evidens",
        "Follow-up of public services built on trust and evidence",
    ),
    "nav_home": ("Hem", "Home"),
    "nav_indicators": ("Indikatorer", "Indicators"),
    "nav_municipalities": ("Kommuner", "Municipalities"),
    "nav_import": ("Importera", "Import"),
    "nav_users": ("Användare", "Users"),
    "nav_api": ("API", "API"),
    "sign_in": ("Logga in", "Sign in"),
    "sign_out": ("Logga ut", "Sign out"),
    "signed_in_as": ("Inloggad som", "Signed in as"),
    "username": ("Användarnamn", "Username"),
    "password": ("Lösenord", "Password"),
    "bad_login": ("Fel användarnamn eller lösenord.", "Wrong username or password."),
    "demo_banner": (
        "DEMODATA: genererade, inte verkliga uppgifter.",
        "DEMO DATA: generated, not real.",
    ),
    "demo_accounts": ("Demokonton", "Demo accounts"),
    "role": ("Roll", "Role"),
    "organisation": ("Organisation", "Organisation"),
    "search": ("Sök", "Search"),
    "area": ("Område", "Area"),
    "all_areas": ("Alla områden", "All areas"),
    "indicator": ("Indikator", "Indicator"),
    "title": ("Titel", "Title"),
    "unit_of_measure": ("Enhet", "Unit"),
    "year": ("År", "Year"),
    "value": ("Värde", "Value"),
    "rank": ("Rang", "Rank"),
    "percentile": ("Percentil", "Percentile"),
    "position": ("Position", "Position"),
    "municipality": ("Kommun", "Municipality"),
    "code": ("Kod", "Code"),
    "county": ("Län", "County"),
    "skr_group": ("SKR-kommungrupp", "SKR municipality group"),
    "show": ("Visa", "Show"),
    "highlight": ("Markera kommun", "Highlight municipality"),
    "gender": ("Kön", "Gender"),
    "gender_T": ("Totalt", "Total"),
    "gender_K": ("Kvinnor", "Women"),
    "gender_M": ("Män", "Men"),
    "gender_split": ("Uppdelat på kön", "By gender"),
    "gap": ("Skillnad K − M", "Gap W − M"),
    "peers": ("Jämförelsegrupp", "Peer set"),
    "peers_all": ("Alla kommuner", "All municipalities"),
    "peers_county": ("Samma län", "Same county"),
    "peers_skr": ("Samma kommungrupp (SKR)", "Same municipality group (SKR)"),
    "peers_similar": ("Liknande kommuner (Kolada)", "Similar municipalities (Kolada)"),
    "peers_custom": ("Egen grupp", "Custom set"),
    "custom_pick": (
        "Egen grupp: välj kommuner (håll Ctrl för flera)",
        "Custom set: pick municipalities (hold Ctrl for several)",
    ),
    "peer_median": ("Jämförelsegruppens median", "Peer median"),
    "peer_iqr": ("Mellersta hälften (kvartil 1–3)", "Middle half (quartiles 1–3)"),
    "n_peers": ("kommuner i gruppen", "municipalities in the set"),
    "trend": ("Trend", "Trend"),
    "trend_per_year": ("per år", "per year"),
    "higher_better": ("Högre värde är bättre", "Higher is better"),
    "lower_better": ("Lägre värde är bättre", "Lower is better"),
    "no_direction": (
        "Ingen riktning (högre är inte bättre eller sämre)",
        "No direction",
    ),
    "followup": ("Uppföljning", "Follow-up"),
    "follow_up_for": ("Följ upp", "Follow up"),
    "profile": ("Kommunprofil", "Municipality profile"),
    "latest": ("Senaste", "Latest"),
    "distribution": ("Fördelning", "Distribution"),
    "ranked": ("Rangordnade kommuner", "Municipalities ranked"),
    "ranked_low_high": (
        "Kommunerna sorterade från lägst till högst värde",
        "Municipalities sorted from lowest to highest value",
    ),
    "download": ("Ladda ner", "Download"),
    "no_data": ("Inga värden.", "No values."),
    "import_title": ("Importera indikatordata", "Import indicator data"),
    "import_help": (
        "Ladda upp en CSV-fil (kolumner: indicator, municipality eller unit, period, "
        "gender, value) eller Kolada-JSON (svar från Koladas API, data/values).",
        "Upload a CSV file (columns: indicator, municipality or unit, period, gender, "
        "value) or Kolada JSON (a Kolada API data/values response).",
    ),
    "file": ("Fil", "File"),
    "upload": ("Importera", "Import"),
    "import_done": ("Importen är klar.", "Import finished."),
    "import_failed": (
        "Importen avbröts, inget sparades.",
        "Import refused, nothing was saved.",
    ),
    "users_title": ("Användare", "Users"),
    "create_user": ("Skapa användare", "Create user"),
    "display_name": ("Namn", "Name"),
    "created": ("Skapad", "Created"),
    "error": ("Fel", "Error"),
    "not_found": ("Sidan finns inte.", "Page not found."),
    "server_error": (
        "Något gick fel hos oss. Felet är loggat.",
        "Something went wrong on our side. The error has been logged.",
    ),
    "back_home": ("Till startsidan", "Back to the home page"),
    "home_intro": (
        "Tillit är en öppen plattform för styrning och uppföljning av offentlig "
        "verksamhet som balanserar behovet av kontroll med tillit till medarbetarnas "
        "kunskap och erfarenhet. Följ upp kommunens verksamhet mot jämförbara kommuner, "
        "se trender och position, och importera egna data.",
        "Tillit is an open platform for governing and following up public services that "
        "balances the need for control with trust in the staff's knowledge and "
        "experience. Follow up a municipality against comparable ones, see trends and "
        "positions, and import your own data.",
    ),
    "home_start": ("Börja här", "Start here"),
    "home_indicators": (
        "Bläddra bland indikatorerna och se alla kommuner rangordnade.",
        "Browse the indicators and see all municipalities ranked.",
    ),
    "home_profile": (
        "Se en kommuns alla indikatorer med trend och position.",
        "See all indicators of a municipality with trend and position.",
    ),
    "home_api": (
        "Hämta allt som JSON, CSV eller Parquet.",
        "Get everything as JSON, CSV or Parquet.",
    ),
    "counts": ("indikatorer, kommuner", "indicators, municipalities"),
    "chart_text": ("Diagrammet som text", "The chart as text"),
    "choose_municipality": ("Välj kommun", "Choose a municipality"),
    "language": ("Language: English", "Språk: svenska"),
}


def translate(key: str, lang: str = "sv") -> str:
    """The text for ``key`` in ``lang`` (falls back to Swedish, then the key)."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
