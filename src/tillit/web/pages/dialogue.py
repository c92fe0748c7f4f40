"""Dialogue pages: read, write, comment, report; the moderators' queue and rules.

User text reaches the page only as :func:`tillit.domain.markdown.render_markdown` output
(escaped text inside a fixed set of tags). Anonymous writers (when the rules allow it)
answer an arithmetic question first; the session keeps only an HMAC of the answer, so
the signed but readable session cookie does not give it away.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tillit.core.errors import PermissionDenied
from tillit.services import dialogue as dl
from tillit.web.deps import ActorDep, EngineDep
from tillit.web.pages.render import render

__all__ = ["check_challenge", "new_challenge", "router"]

router = APIRouter(include_in_schema=False)

CHALLENGE_KEY = "challenge"


def _secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _digest(request: Request, nonce: str, answer: str) -> str:
    msg = f"{nonce}:{answer.strip()}".encode()
    return hmac.new(_secret(request).encode(), msg, hashlib.sha256).hexdigest()


def new_challenge(request: Request) -> str:
    """Put a fresh arithmetic question in the session; returns its text."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    nonce = secrets.token_urlsafe(8)
    request.session[CHALLENGE_KEY] = [nonce, _digest(request, nonce, str(a + b))]
    return f"{a} + {b}"


def check_challenge(request: Request, answer: Any) -> None:
    """Refuse unless ``answer`` solves the session's question (used once)."""
    stored = request.session.pop(CHALLENGE_KEY, None)
    ok = (
        isinstance(stored, list)
        and len(stored) == 2
        and isinstance(answer, str)
        and hmac.compare_digest(
            str(stored[1]), _digest(request, str(stored[0]), answer)
        )
    )
    if not ok:
        raise PermissionDenied("wrong answer to the question; try again")


def _form_context(request: Request, engine: Any, actor: Any) -> dict[str, Any]:
    settings = dl.get_settings(engine)
    can_write = actor.user_id is not None or settings.allow_anonymous
    question = new_challenge(request) if can_write and actor.user_id is None else ""
    return {"can_write": can_write, "question": question}


@router.get("/dialogue", response_class=HTMLResponse)
def dialogue_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """Published contributions, newest first, and the writing form."""
    topic = request.query_params.get("topic", "")[:200] or None
    pilot = request.query_params.get("pilot", "")[:40] or None
    posts = dl.list_contributions(engine, topic=topic, pilot_code=pilot)
    return render(
        request,
        "dialogue/list.html",
        {
            "posts": posts,
            "topic": topic or "",
            "pilot": pilot or "",
            "demo": any(p.is_demo for p in posts),
            "message": request.query_params.get("msg", "")[:40],
            **_form_context(request, engine, actor),
        },
    )


async def _write(
    request: Request, engine: Any, actor: Any, parent_id: int | None
) -> dict[str, Any]:
    form = await request.form()
    if actor.user_id is None:
        check_challenge(request, form.get("answer"))
    return dl.write(
        engine,
        actor,
        body=str(form.get("body", "")),
        title=str(form.get("title", "")),
        topic=str(form.get("topic", "")),
        pilot_code=str(form.get("pilot", "")) or None,
        parent_id=parent_id,
        secret=_secret(request),
        address=_address(request),
    )


@router.post("/dialogue", response_model=None)
async def write_contribution(
    request: Request, engine: EngineDep, actor: ActorDep
) -> Response:
    """Write a contribution (published at once or queued for moderation)."""
    r = await _write(request, engine, actor, None)
    if r["status"] == "published":
        return RedirectResponse(f"/dialogue/{r['id']}", status_code=303)
    return RedirectResponse("/dialogue?msg=queued", status_code=303)


@router.get("/dialogue/{post_id}", response_class=HTMLResponse)
def post_page(
    request: Request, engine: EngineDep, actor: ActorDep, post_id: int
) -> HTMLResponse:
    """A contribution with its comments."""
    info = dl.get_post(engine, actor, post_id)
    return render(
        request,
        "dialogue/post.html",
        {
            **info,
            "demo": info["post"].is_demo,
            "message": request.query_params.get("msg", "")[:40],
            **_form_context(request, engine, actor),
        },
    )


@router.post("/dialogue/{post_id}/comment", response_model=None)
async def comment(
    request: Request, engine: EngineDep, actor: ActorDep, post_id: int
) -> Response:
    """Comment on a published contribution."""
    r = await _write(request, engine, actor, post_id)
    msg = "" if r["status"] == "published" else "?msg=queued"
    return RedirectResponse(f"/dialogue/{post_id}{msg}", status_code=303)


@router.post("/dialogue/{post_id}/report", response_model=None)
async def report(request: Request, engine: EngineDep, post_id: int) -> Response:
    """Report a post to the moderators (anyone; rate-limited per address)."""
    form = await request.form()
    dl.report(
        engine,
        post_id,
        str(form.get("reason", "")),
        secret=_secret(request),
        address=_address(request),
    )
    back = str(form.get("back", ""))
    target = int(back) if back.isdigit() else post_id
    return RedirectResponse(f"/dialogue/{target}?msg=reported", status_code=303)


@router.get("/admin/dialogue", response_class=HTMLResponse)
def admin_page(request: Request, engine: EngineDep, actor: ActorDep) -> HTMLResponse:
    """The moderation queue, readers' reports and the rules (administrators)."""
    queue = dl.moderation_queue(engine, actor)
    return render(
        request,
        "dialogue/admin.html",
        {**queue, "settings": dl.get_settings(engine)},
    )


@router.post("/admin/dialogue/rules", response_model=None)
async def save_rules(request: Request, engine: EngineDep, actor: ActorDep) -> Response:
    """Save the moderation rules."""
    form = await request.form()
    words = tuple(str(form.get("blocked_words", "")).split(","))
    dl.save_settings(
        engine,
        actor,
        dl.Settings(
            allow_anonymous=form.get("allow_anonymous") == "on",
            blocked_words=words,
            links_need_approval=form.get("links_need_approval") == "on",
        ),
    )
    return RedirectResponse("/admin/dialogue", status_code=303)


@router.post("/admin/dialogue/{post_id}/{action}", response_model=None)
async def moderate(
    request: Request, engine: EngineDep, actor: ActorDep, post_id: int, action: str
) -> Response:
    """Approve, hide (with a reason), restore or dismiss reports."""
    form = await request.form()
    dl.moderate(engine, actor, post_id, action[:20], str(form.get("reason", "")))
    return RedirectResponse("/admin/dialogue", status_code=303)
