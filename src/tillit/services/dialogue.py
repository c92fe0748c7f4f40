"""The open dialogue: contributions ("debattinlägg") and comments, with moderation.

Rules
-----
* anyone reads published posts; a hidden post shows only the moderator's reason;
* signed-in users write; anonymous visitors only when an administrator allows it (the web
  layer asks them a simple arithmetic question first);
* a new post waits in the moderation queue when its author is anonymous, has no
  published post yet, or the text breaks a rule (a blocked word; a link when links need
  approval); administrators' posts are published at once;
* administrators approve, hide (with a reason shown to readers) and restore posts, and
  resolve readers' reports;
* rate limits: a sliding window per person and per address, kept in ``rate_events`` as a
  keyed hash (HMAC with the app's secret) and the time only; the address is never stored
  with a text and events older than the window are deleted;
* text is stored as written and rendered only through
  :func:`tillit.domain.markdown.render_markdown` (everything escaped).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from tillit.core.errors import Conflict, DataError, NotFound, PermissionDenied
from tillit.domain.markdown import has_link, render_markdown
from tillit.domain.records import Actor
from tillit.store.db import write_transaction
from tillit.store.survey_tables import (
    dialogue_posts,
    dialogue_reports,
    dialogue_settings,
    rate_events,
)
from tillit.store.tables import users

__all__ = [
    "LIMITS",
    "Post",
    "Settings",
    "check_rate",
    "get_post",
    "get_settings",
    "list_contributions",
    "load_demo_dialogue",
    "moderate",
    "moderation_queue",
    "report",
    "save_settings",
    "write",
]

# (events, window in seconds) per person and per address
LIMITS = {"person": (5, 600), "address": (10, 600)}
MAX_BODY = 10_000
ANONYMOUS = "Anonym"


@dataclass(frozen=True)
class Settings:
    """The moderation rules."""

    allow_anonymous: bool = False
    blocked_words: tuple[str, ...] = ()
    links_need_approval: bool = True


@dataclass(frozen=True)
class Post:
    """A contribution or comment as a reader sees it (``html`` is safe markup)."""

    id: int
    parent_id: int | None
    topic: str
    pilot_code: str | None
    title: str
    html: str
    author: str
    status: str
    reason: str
    created_at: Any
    is_demo: bool
    n_comments: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON keys (hidden posts carry no text)."""
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "topic": self.topic,
            "pilot": self.pilot_code,
            "title": self.title,
            "html": self.html,
            "author": self.author,
            "status": self.status,
            "reason": self.reason,
            "is_demo": self.is_demo,
        }


def _check_id(post_id: int | None) -> None:
    """Ids outside the database's integer range name no post (404, not a crash)."""
    if post_id is not None and not 0 < post_id < 2**31:
        raise NotFound("no such post")


def get_settings(engine: Engine) -> Settings:
    """The current rules (defaults when none are saved)."""
    with engine.connect() as conn:
        row = conn.execute(select(dialogue_settings).limit(1)).first()
    if row is None:
        return Settings()
    words = tuple(w.strip().lower() for w in row.blocked_words.split(",") if w.strip())
    return Settings(bool(row.allow_anonymous), words, bool(row.links_need_approval))


def save_settings(engine: Engine, actor: Actor, s: Settings) -> None:
    """Save the rules (administrators only)."""
    if not actor.is_admin:
        raise PermissionDenied("only administrators set the dialogue rules")
    values = {
        "allow_anonymous": s.allow_anonymous,
        "blocked_words": ",".join(w.strip() for w in s.blocked_words if w.strip())[
            :5000
        ],
        "links_need_approval": s.links_need_approval,
    }
    with write_transaction(engine) as conn:
        if conn.execute(select(dialogue_settings.c.id)).first() is None:
            conn.execute(insert(dialogue_settings).values(id=1, **values))
        else:
            conn.execute(update(dialogue_settings).values(**values))


def _key(secret: str, kind: str, value: str) -> str:
    return hmac.new(
        secret.encode(), f"{kind}:{value}".encode(), hashlib.sha256
    ).hexdigest()


def check_rate(
    conn: Connection, secret: str, keys: dict[str, str], now: datetime | None = None
) -> None:
    """Refuse (409) when any key has used its window; otherwise record one event each.

    ``keys`` maps a limit name of :data:`LIMITS` (``person``, ``address``) to the value
    it limits (user id, client address).
    """
    now = now or datetime.now(UTC)
    oldest = now - timedelta(seconds=max(w for _n, w in LIMITS.values()))
    conn.execute(delete(rate_events).where(rate_events.c.at < oldest))
    hashed = {kind: _key(secret, kind, v) for kind, v in keys.items() if v}
    for kind, h in hashed.items():
        limit, window = LIMITS[kind]
        used = conn.execute(
            select(func.count()).where(
                rate_events.c.key == h,
                rate_events.c.at >= now - timedelta(seconds=window),
            )
        ).scalar()
        if int(used or 0) >= limit:
            raise Conflict(
                f"too many posts: at most {limit} per {window // 60} minutes; "
                "please wait a while"
            )
    if hashed:
        conn.execute(
            insert(rate_events), [{"key": h, "at": now} for h in hashed.values()]
        )


def _needs_approval(
    conn: Connection, actor: Actor, text: str, settings: Settings
) -> str:
    """Why a new post must wait for a moderator ('' when it may be published)."""
    if actor.is_admin:
        return ""
    low = text.lower()
    if any(w in low for w in settings.blocked_words):
        return "contains a word on the moderation list"
    if settings.links_need_approval and has_link(text):
        return "contains a link"
    if actor.user_id is None:
        return "anonymous posts are reviewed first"
    published = conn.execute(
        select(func.count()).where(
            dialogue_posts.c.author_user_id == actor.user_id,
            dialogue_posts.c.status == "published",
        )
    ).scalar()
    return "" if published else "first posts are reviewed first"


def write(
    engine: Engine,
    actor: Actor,
    *,
    body: str,
    title: str = "",
    topic: str = "",
    pilot_code: str | None = None,
    parent_id: int | None = None,
    secret: str,
    address: str = "",
    is_demo: bool = False,
) -> dict[str, Any]:
    """Write a contribution (``parent_id`` None) or a comment; returns id and status.

    Anonymous writing must be allowed by the rules (the caller has checked the
    challenge); rate limits apply to the person and to ``address``.
    """
    body = body.replace("\0", "").strip()
    title = title.replace("\0", "").strip()[:200]
    if not body:
        raise DataError("write something", field="body")
    if len(body) > MAX_BODY:
        raise DataError(f"at most {MAX_BODY} characters", field="body")
    if parent_id is None and not title:
        raise DataError("a contribution needs a title", field="title")
    _check_id(parent_id)
    settings = get_settings(engine)
    if actor.user_id is None and not settings.allow_anonymous and not is_demo:
        raise PermissionDenied("sign in to write (anonymous posts are not allowed)")
    with write_transaction(engine) as conn:
        if parent_id is not None:
            parent = conn.execute(
                select(dialogue_posts.c.status, dialogue_posts.c.parent_id).where(
                    dialogue_posts.c.id == parent_id
                )
            ).first()
            if parent is None or parent.status != "published" or parent.parent_id:
                raise NotFound("no such contribution to comment on")
        if not is_demo:
            check_rate(
                conn,
                secret,
                {"person": str(actor.user_id or ""), "address": address},
            )
        why = _needs_approval(conn, actor, f"{title}\n{body}", settings)
        status = "published" if is_demo or not why else "pending"
        name = actor.username or ANONYMOUS
        if actor.user_id is not None:
            name = (
                conn.execute(
                    select(users.c.display_name).where(users.c.id == actor.user_id)
                ).scalar()
                or actor.username
            )
        pid = conn.execute(  # type: ignore[index]
            insert(dialogue_posts).values(
                parent_id=parent_id,
                topic=topic.strip()[:200],
                pilot_code=(pilot_code or "").strip()[:40] or None,
                title=title,
                body=body,
                author_user_id=actor.user_id,
                author_name=name[:120],
                status=status,
                moderation_reason="" if status == "published" else why,
                is_demo=is_demo,
            )
        ).inserted_primary_key[0]
    return {
        "id": int(pid),
        "status": status,
        "reason": "" if status == "published" else why,
    }


def _post(row: Any, n_comments: int = 0, *, show_hidden_text: bool = False) -> Post:
    hidden = row.status != "published" and not show_hidden_text
    return Post(
        id=row.id,
        parent_id=row.parent_id,
        topic=row.topic,
        pilot_code=row.pilot_code,
        title="" if hidden else row.title,
        html="" if hidden else render_markdown(row.body),
        author=row.author_name,
        status=row.status,
        reason=row.moderation_reason if row.status == "hidden" else "",
        created_at=row.created_at,
        is_demo=bool(row.is_demo),
        n_comments=n_comments,
    )


def list_contributions(
    engine: Engine, *, topic: str | None = None, pilot_code: str | None = None
) -> list[Post]:
    """Published and hidden contributions (hidden ones without text), newest first."""
    c = dialogue_posts.alias("c")
    counts = (
        select(func.count())
        .where(c.c.parent_id == dialogue_posts.c.id, c.c.status == "published")
        .scalar_subquery()
    )
    stmt = (
        select(dialogue_posts, counts.label("n"))
        .where(
            dialogue_posts.c.parent_id.is_(None),
            dialogue_posts.c.status != "pending",
        )
        .order_by(dialogue_posts.c.id.desc())
    )
    if topic:
        stmt = stmt.where(dialogue_posts.c.topic == topic)
    if pilot_code:
        stmt = stmt.where(dialogue_posts.c.pilot_code == pilot_code)
    with engine.connect() as conn:
        return [_post(r, int(r.n)) for r in conn.execute(stmt)]


def get_post(engine: Engine, actor: Actor, post_id: int) -> dict[str, Any]:
    """A contribution with its comments (pending ones only for administrators)."""
    _check_id(post_id)
    with engine.connect() as conn:
        row = conn.execute(
            select(dialogue_posts).where(
                dialogue_posts.c.id == post_id, dialogue_posts.c.parent_id.is_(None)
            )
        ).first()
        if row is None or (row.status == "pending" and not actor.is_admin):
            raise NotFound("no such contribution")
        comments = conn.execute(
            select(dialogue_posts)
            .where(dialogue_posts.c.parent_id == post_id)
            .order_by(dialogue_posts.c.id)
        ).all()
    shown = [
        _post(c, show_hidden_text=actor.is_admin and c.status == "pending")
        for c in comments
        if c.status != "pending" or actor.is_admin
    ]
    return {
        "post": _post(row, show_hidden_text=actor.is_admin and row.status == "pending"),
        "comments": shown,
    }


def report(
    engine: Engine, post_id: int, reason: str, *, secret: str, address: str
) -> None:
    """A reader reports a post to the moderators (rate-limited per address)."""
    _check_id(post_id)
    with write_transaction(engine) as conn:
        if (
            conn.execute(
                select(dialogue_posts.c.id).where(dialogue_posts.c.id == post_id)
            ).first()
            is None
        ):
            raise NotFound("no such post")
        check_rate(conn, secret, {"address": address})
        conn.execute(
            insert(dialogue_reports).values(
                post_id=post_id, reason=reason.strip()[:1000]
            )
        )


def moderation_queue(engine: Engine, actor: Actor) -> dict[str, Any]:
    """Pending posts and open reports (administrators only)."""
    if not actor.is_admin:
        raise PermissionDenied("only administrators moderate the dialogue")
    with engine.connect() as conn:
        pending = conn.execute(
            select(dialogue_posts)
            .where(dialogue_posts.c.status == "pending")
            .order_by(dialogue_posts.c.id)
        ).all()
        reports = conn.execute(
            select(
                dialogue_reports.c.id,
                dialogue_reports.c.post_id,
                dialogue_reports.c.reason,
                dialogue_posts.c.status,
                dialogue_posts.c.body,
            )
            .join(dialogue_posts)
            .where(~dialogue_reports.c.resolved)
            .order_by(dialogue_reports.c.id)
        ).all()
    return {
        "pending": [
            {"post": _post(p, show_hidden_text=True), "why": p.moderation_reason}
            for p in pending
        ],
        "reports": [
            {
                "id": r.id,
                "post_id": r.post_id,
                "reason": r.reason,
                "status": r.status,
                "html": render_markdown(r.body),
            }
            for r in reports
        ],
    }


def moderate(
    engine: Engine, actor: Actor, post_id: int, action: str, reason: str = ""
) -> None:
    """``approve``, ``hide`` (reason required, shown to readers) or ``restore`` a post.

    Hiding, restoring or approving a post resolves its open reports; ``dismiss``
    resolves them and leaves the post as it is.
    """
    if not actor.is_admin:
        raise PermissionDenied("only administrators moderate the dialogue")
    status = {"approve": "published", "restore": "published", "hide": "hidden"}
    if action not in (*status, "dismiss"):
        raise DataError(f"unknown action {action!r}", field="action")
    _check_id(post_id)
    if action == "hide" and not reason.strip():
        raise DataError("say why the post is hidden (readers see it)", field="reason")
    with write_transaction(engine) as conn:
        if (
            conn.execute(
                select(dialogue_posts.c.id).where(dialogue_posts.c.id == post_id)
            ).first()
            is None
        ):
            raise NotFound("no such post")
        if action != "dismiss":
            conn.execute(
                update(dialogue_posts)
                .where(dialogue_posts.c.id == post_id)
                .values(
                    status=status[action],
                    moderation_reason=reason.strip()[:1000] if action == "hide" else "",
                )
            )
        conn.execute(
            update(dialogue_reports)
            .where(dialogue_reports.c.post_id == post_id)
            .values(resolved=True)
        )


DEMO_POSTS = (
    (
        "Tillit i hemtjänsten",
        "Mindre minutstyrning, mer tid hos brukarna",
        "När vi slutade planera i minuter fick personalen **tid att lyssna**.\n\n"
        "- färre rapporter\n- mer handlingsutrymme\n- nöjdare brukare",
        ("Håller med, men hur följer vi upp kvaliteten utan minuterna?",),
    ),
    (
        "Styrning och uppföljning",
        "Vilka indikatorer kan vi ta bort?",
        "Vi mäter mycket som *inte* säger något om kvalitet. Vilka mått skulle ni "
        "ta bort först?",
        ("Mått som ingen läser.", "Dubbelrapportering till region och stat."),
    ),
)


def load_demo_dialogue(engine: Engine) -> dict[str, Any]:
    """A few demo contributions and comments (idempotent)."""
    with engine.connect() as conn:
        if conn.execute(
            select(dialogue_posts.c.id).where(dialogue_posts.c.is_demo)
        ).first():
            return {"skipped": True}
    demo = Actor(username="DEMO")
    made = []
    for topic, title, body, comments in DEMO_POSTS:
        r = write(
            engine, demo, body=body, title=title, topic=topic, secret="", is_demo=True
        )
        made.append(r["id"])
        for c in comments:
            write(engine, demo, body=c, parent_id=r["id"], secret="", is_demo=True)
    return {"skipped": False, "posts": made}
