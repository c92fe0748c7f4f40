"""The trust barometer's instruments: versioned questions in Swedish and English.

A question is a Likert item (1-5) belonging to a scale, a numeric item (e.g. hours per week
spent on documentation), or free text. Scale scores are the mean of a respondent's answered
items in the scale, computed only when at least half of the scale's items were answered.
Organisations may add their own questions (``Instrument.extend``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tillit.core.errors import DataError

__all__ = ["CITIZEN", "STAFF", "Instrument", "Question", "Scale", "instrument"]


@dataclass(frozen=True)
class Question:
    """One question. ``kind`` is ``likert`` (1-5), ``number`` (with bounds) or ``text``."""

    id: str
    scale: str
    kind: str
    sv: str
    en: str
    low: float = 1.0
    high: float = 5.0
    reverse: bool = False


@dataclass(frozen=True)
class Scale:
    """A named index built from Likert questions."""

    id: str
    sv: str
    en: str


@dataclass(frozen=True)
class Instrument:
    """A versioned questionnaire."""

    id: str
    version: int
    audience: str  # staff | citizen
    scales: tuple[Scale, ...]
    questions: tuple[Question, ...] = field(default_factory=tuple)

    def question(self, qid: str) -> Question:
        """Return the question with id ``qid``."""
        for q in self.questions:
            if q.id == qid:
                return q
        raise DataError(f"unknown question '{qid}' in {self.id} v{self.version}")

    def items(self, scale: str) -> list[Question]:
        """Likert questions of one scale."""
        return [q for q in self.questions if q.scale == scale and q.kind == "likert"]

    def extend(self, extra: list[Question], *, new_id: str | None = None) -> Instrument:
        """An organisation's own version: the standard questions plus ``extra``.

        The version number goes up by one; question ids must stay unique.
        """
        ids = {q.id for q in self.questions}
        for q in extra:
            if q.id in ids:
                raise DataError(f"question id '{q.id}' already exists", field="id")
            if q.kind not in {"likert", "number", "text"}:
                raise DataError(f"unknown question kind '{q.kind}'", field="kind")
            ids.add(q.id)
        scales = list(self.scales)
        known = {s.id for s in scales}
        for q in extra:
            if q.kind == "likert" and q.scale not in known:
                scales.append(Scale(q.scale, q.scale, q.scale))
                known.add(q.scale)
        return replace(
            self,
            id=new_id or self.id,
            version=self.version + 1,
            scales=tuple(scales),
            questions=self.questions + tuple(extra),
        )


def _lik(qid: str, scale: str, sv: str, en: str, reverse: bool = False) -> Question:
    return Question(qid, scale, "likert", sv, en, reverse=reverse)


STAFF = Instrument(
    id="staff",
    version=1,
    audience="staff",
    scales=(
        Scale("trust_manager", "Tillit till närmaste chef", "Trust in one's manager"),
        Scale("trust_org", "Tillit till organisationen", "Trust in the organisation"),
        Scale("autonomy", "Handlingsutrymme och mandat", "Autonomy and mandate"),
        Scale("competence", "Kompetens", "Competence"),
        Scale("leadership", "Ledarskap", "Leadership"),
        Scale("shared_goal", "Gemensamt mål", "A shared goal"),
        Scale("shared_values", "Gemensamma värderingar", "Shared values"),
    ),
    questions=(
        _lik(
            "tm1",
            "trust_manager",
            "Jag kan lita på min närmaste chef.",
            "I can trust my immediate manager.",
        ),
        _lik(
            "tm2",
            "trust_manager",
            "Min chef litar på mitt omdöme.",
            "My manager trusts my judgement.",
        ),
        _lik(
            "tm3",
            "trust_manager",
            "Min chef kontrollerar mitt arbete i onödan.",
            "My manager checks my work needlessly.",
            reverse=True,
        ),
        _lik(
            "to1",
            "trust_org",
            "Ledningen litar på medarbetarnas kunskap.",
            "Senior management trusts the staff's knowledge.",
        ),
        _lik(
            "to2",
            "trust_org",
            "Styrningen hjälper oss att göra ett bra arbete.",
            "Governance helps us do good work.",
        ),
        _lik(
            "au1",
            "autonomy",
            "Jag kan själv avgöra hur arbetet ska utföras.",
            "I can decide how to do my work.",
        ),
        _lik(
            "au2",
            "autonomy",
            "Jag kan anpassa insatsen efter brukarens behov.",
            "I can adapt the service to the user's needs.",
        ),
        _lik(
            "co1",
            "competence",
            "Jag har den kompetens arbetet kräver.",
            "I have the competence the work needs.",
        ),
        _lik(
            "le1",
            "leadership",
            "Ledarskapet stödjer utveckling av verksamheten.",
            "Leadership supports developing the service.",
        ),
        _lik(
            "sg1",
            "shared_goal",
            "Vi har ett gemensamt mål som alla känner till.",
            "We have a shared goal everyone knows.",
        ),
        _lik(
            "sv1",
            "shared_values",
            "Vi delar värderingar om vad god kvalitet är.",
            "We share values about what good quality is.",
        ),
        Question(
            "doc_hours",
            "documentation",
            "number",
            "Timmar per vecka på dokumentation och rapportering.",
            "Hours per week on documentation and reporting.",
            0.0,
            60.0,
        ),
        Question(
            "free",
            "free_text",
            "text",
            "Något du vill tillägga?",
            "Anything you would like to add?",
        ),
    ),
)

CITIZEN = Instrument(
    id="citizen",
    version=1,
    audience="citizen",
    scales=(
        Scale(
            "trust_services",
            "Tillit till välfärdstjänsterna",
            "Trust in the welfare services",
        ),
    ),
    questions=(
        _lik(
            "ts1",
            "trust_services",
            "Jag litar på att jag får den hjälp jag behöver.",
            "I trust that I get the help I need.",
        ),
        _lik(
            "ts2",
            "trust_services",
            "Personalen tar hänsyn till mina önskemål.",
            "Staff take my wishes into account.",
        ),
        _lik(
            "ts3",
            "trust_services",
            "Jag vet vem jag ska vända mig till.",
            "I know whom to turn to.",
        ),
        Question(
            "free",
            "free_text",
            "text",
            "Något du vill tillägga?",
            "Anything you would like to add?",
        ),
    ),
)


def instrument(audience: str) -> Instrument:
    """The standard instrument for ``staff`` or ``citizen``."""
    if audience == "staff":
        return STAFF
    if audience == "citizen":
        return CITIZEN
    raise DataError(f"unknown survey audience '{audience}' (staff or citizen)")
