"""The public subscription pages: the hosted form (/f/<slug>), which also takes the snippet's posts, and the
confirmation link (/f/confirm/<token>). No session and no cookie: the page token in the form is its CSRF
defence and its clock (see forms/tokens.py); the confirmation token is the link's only credential."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sendwell.forms import defaults, snippet, store
from sendwell.forms import subscribe as service
from sendwell.forms.subscribe import Confirmed, Outcome
from sendwell.translations import N_
from sendwell.web.state import EngineDep, web_state
from sendwell.web.ui import receipts
from sendwell.web.ui.forms import see_other
from sendwell.web.ui.render import gettext, language_of, render

router = APIRouter(prefix="/f")
NOT_FOUND = N_("There is no subscription form at this address.")
STATUS = {
    Outcome.PENDING: 200,
    Outcome.CONFIRMED: 200,
    Outcome.TYPO: 422,
    Outcome.INVALID: 422,
    Outcome.REFUSED: 403,
    Outcome.BOT: 400,
    Outcome.TOO_FAST: 200,
    Outcome.STALE: 200,
    Outcome.RATE_LIMITED: 429,
    Outcome.UNSENT: 503,
}
LINK_TEXT = {
    Confirmed.CONFIRMED: N_("Thank you: your subscription is confirmed."),
    Confirmed.EXPIRED: N_("This link has expired or was used already. You can subscribe again with the form."),
    Confirmed.INVALID: N_("This link does not work. Please copy the whole link from the email."),
    Confirmed.REFUSED: service.MESSAGES[Outcome.REFUSED],
}
ACCEPTED = {Outcome.PENDING.value, Outcome.CONFIRMED.value}
LINK_STATUS = {Confirmed.CONFIRMED: 200, Confirmed.EXPIRED: 410, Confirmed.INVALID: 404, Confirmed.REFUSED: 403}


def _in_language(request: Request, result: service.Result | None) -> service.Result | None:
    """The service's answer written out from the page's catalogue, its parts (an address, a domain) as they are."""
    if result is None or not result.text:
        return result
    said = gettext(request).gettext(result.text)
    return replace(result, message=said % result.params if result.params else said)


def _not_found(request: Request) -> Response:
    message = gettext(request).gettext(NOT_FOUND)
    return render(request, "error.html", status=404, status_code=404, message=message)


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _page(
    request: Request,
    form: store.Form,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    result: service.Result | None = None,
) -> Response:
    web = web_state(request)
    t = gettext(request)
    return render(
        request,
        "subscribe.html",
        status=status,
        form=form,
        sender=service.sender_of(form, web.settings),
        token=service.page_token(web.secret, form),
        values=values or {},
        consent=defaults.consent_in(form.consent_text, language_of(request)),
        result=_in_language(request, result),
        label=lambda f: t.gettext(snippet.label(f)),
        honeypot=snippet.HONEYPOT,
    )


@router.get("/{slug}")
def page(request: Request, slug: str, engine: EngineDep) -> Response:
    form = store.by_slug(engine, slug)
    if form is None:
        return _not_found(request)
    web = web_state(request)
    done = receipts.read(web.secret, request.url.path, request.query_params.get("done"))
    if done in ACCEPTED:  # the page a successful post redirects to ("check your inbox")
        outcome = Outcome(done)
        result = service.Result(outcome, service.MESSAGES[outcome], text=service.MESSAGES[outcome])
        return render(
            request,
            "subscribe_done.html",
            form=form,
            sender=service.sender_of(form, web.settings),
            result=_in_language(request, result),
        )
    return _page(request, form)


@router.post("/{slug}")
async def post(request: Request, slug: str, engine: EngineDep) -> Response:
    form = await run_in_threadpool(store.by_slug, engine, slug)
    if form is None:
        return _not_found(request)
    data = await request.form()
    text = {k: v for k, v in data.items() if isinstance(v, str)}
    email = text.get("suggested") or text.get("email", "")  # "use the suggestion" sends it as `suggested`
    values = {"email": email.strip()[:320], **{f: text.get(f, "")[:200] for f in form.fields}}
    sub = service.Submission(
        email=values["email"],
        fields={f: values[f] for f in form.fields},
        page_token=text.get("token", ""),
        honeypot=text.get(snippet.HONEYPOT, ""),
        client_addr=_client(request),
        keep_typed=bool(text.get("keep_typed")),
        language=language_of(request),  # as the page was shown: the consent and the confirmation say it so
    )
    web = web_state(request)
    base = web.settings.sending.public_url or str(request.base_url)
    result = await run_in_threadpool(lambda: service.submit(engine, web.settings, web.secret, form, sub, base_url=base))
    if result.accepted:  # Post/Redirect/GET: reloading the page after it sends nothing again
        return see_other(receipts.url(web.secret, request.url.path, "done", result.outcome.value))
    if result.outcome in (Outcome.BOT, Outcome.REFUSED, Outcome.RATE_LIMITED):
        values = {}  # nothing to correct: the form is shown empty
    return _page(request, form, status=STATUS[result.outcome], values=values, result=result)


def _link_page(request: Request, token: str, found: service.Confirmation) -> Response:
    web = web_state(request)
    form = found.form
    return render(
        request,
        "subscribe_confirm.html",
        status=LINK_STATUS.get(found.outcome, 200),
        token=token,
        outcome=found.outcome.value,
        message=gettext(request).gettext(LINK_TEXT[found.outcome]) if found.outcome in LINK_TEXT else "",
        form=form,
        email=found.email,
        sender=service.sender_of(form, web.settings) if form else "",
    )


@router.get("/confirm/{token}")
def confirm_page(request: Request, token: str, engine: EngineDep) -> Response:
    secret = web_state(request).secret
    fid = receipts.read(secret, request.url.path, request.query_params.get("done"))
    if isinstance(fid, int):  # the page a confirmation redirects to: the link itself is used up by now
        return _link_page(request, token, service.Confirmation(Confirmed.CONFIRMED, store.get(engine, fid)))
    return _link_page(request, token, service.check_link(engine, secret, token))


@router.post("/confirm/{token}")
def confirm(request: Request, token: str, engine: EngineDep) -> Response:
    secret = web_state(request).secret
    found = service.confirm(engine, secret, token, client_addr=_client(request))
    if found.outcome is Confirmed.CONFIRMED and found.form is not None:
        return see_other(receipts.url(secret, request.url.path, "done", found.form.id))
    return _link_page(request, token, found)
