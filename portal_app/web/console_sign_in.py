"""Console sign-in and sign-out: plain HTTP routes beside the Reflex pages.

Sign-in is a server-rendered form so that the session cookie can be HttpOnly:
the browser's JavaScript never sees it, and the Reflex state reads it from the
websocket handshake instead (see ``portal_app.state.console``).

CSRF, for every state-changing POST here:

* the request's ``Origin`` (or, failing that, ``Referer``) must be this site's
  own origin — the public URL or the host the request was made to;
* sign-in carries a token bound to a short-lived, HttpOnly, SameSite=Strict
  pre-session cookie (a cross-site page can neither read nor set it);
* sign-out carries the session's CSRF token (``console_identity().csrf_token``),
  which the console page renders into its sign-out form.

The session cookie itself is ``SameSite=Strict``, so a cross-site request never
carries it in the first place.
"""

from __future__ import annotations

import hmac
import math
import secrets
from html import escape
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from portal_app.accounts import services as accounts
from portal_app.console.strings import ct
from portal_app.db import UnitOfWork
from portal_app.errors import AuthenticationFailed, RateLimited
from portal_app.routes import CONSOLE, CONSOLE_LOGIN, CONSOLE_LOGOUT
from portal_app.settings import get_settings
from portal_app.web.html_page import html_page

COOKIE = "portico_console"
LOGIN_COOKIE = "portico_console_login"
LOGIN_FORM_TTL = 15 * 60  # seconds a sign-in form stays usable


def safe_next(target: str | None) -> str:
    """``target`` if it is a path inside the console, else the console's home.

    Only relative console paths are accepted, so ``next`` cannot send a freshly
    signed-in merchant to another site (``//evil.test``, ``https://...``, ``/\\evil``).
    """
    if not target or not target.startswith(CONSOLE) or "\\" in target:
        return CONSOLE
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (
        parts.path == CONSOLE or parts.path.startswith(CONSOLE + "/")
    ):
        return CONSOLE
    return target


def login_url(next_path: str | None = None) -> str:
    """The sign-in page, returning to ``next_path`` afterwards."""
    target = safe_next(next_path)
    return CONSOLE_LOGIN if target == CONSOLE else f"{CONSOLE_LOGIN}?{urlencode({'next': target})}"


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def trusted_origin(origin: str | None, *, host: str | None) -> bool:
    """Whether ``origin`` is this site: the public URL's origin, or the requested host."""
    claimed = _origin(origin) if origin and origin != "null" else None
    if claimed is None:
        return False
    if claimed == _origin(get_settings().public_url):
        return True
    return bool(host) and urlsplit(claimed).netloc == (host or "").lower()


def is_same_origin(request: Request) -> bool:
    """Whether a POST came from a page of this site (Origin, else Referer; neither: no)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    return trusted_origin(claimed, host=request.headers.get("host"))


def _uow() -> UnitOfWork:
    return UnitOfWork()


def _set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE, token, max_age=int(accounts.CONSOLE_SESSION_TTL.total_seconds()), path="/",
        httponly=True, samesite="strict", secure=get_settings().secure_cookies,
    )


def _clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=get_settings().secure_cookies)


def _login_page(*, next_path: str, email: str = "", error: str | None = None,
                notice: str | None = None, status_code: int = 200) -> HTMLResponse:
    """The sign-in form with a fresh pre-session CSRF token (cookie + hidden field)."""
    nonce = secrets.token_urlsafe(32)
    title = ct("Sign in to the Portico console")
    body = LOGIN_BODY.format(
        title=escape(title),
        product=escape(ct("Portico")),
        lead=escape(ct("Manage your customer portal, offers and events.")),
        action=escape(CONSOLE_LOGIN),
        csrf=escape(nonce),
        next=escape(next_path),
        email_label=escape(ct("Email")),
        password_label=escape(ct("Password")),
        email=escape(email),
        submit=escape(ct("Sign in")),
        message=_message(error, notice),
        email_autofocus="" if email else " autofocus",
        password_autofocus=" autofocus" if email else "",
    )
    html = html_page(locale="en", title=title, body=body, style=LOGIN_STYLE)
    response = HTMLResponse(html, status_code=status_code,
                            headers={"Cache-Control": "no-store"})
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_TTL, path=CONSOLE_LOGIN,
                        httponly=True, samesite="strict", secure=get_settings().secure_cookies)
    return response


def _cross_origin() -> str:
    return ct("This request did not come from the Portico console.")


def _form_expired() -> str:
    return ct("This sign-in form has expired. Please try again.")


def _message(error: str | None, notice: str | None) -> str:
    if error:
        return f'<p class="msg error" role="alert">{escape(error)}</p>'
    if notice:
        return f'<p class="msg notice" role="status">{escape(notice)}</p>'
    return ""


async def login_form(request: Request) -> Response:
    """GET /console/login: the form (or straight on, when already signed in)."""
    next_path = safe_next(request.query_params.get("next"))
    token = request.cookies.get(COOKIE)
    if token:
        try:
            await run_in_threadpool(accounts.console_identity, token, uow=_uow())
        except AuthenticationFailed:
            pass
        else:
            return RedirectResponse(next_path, status_code=303)
    notice = ct("You have been signed out.") if request.query_params.get("signed_out") else None
    return _login_page(next_path=next_path, notice=notice)


async def login(request: Request) -> Response:
    """POST /console/login: check the password, set the session cookie, go on.

    The Origin and the pre-session cookie are checked before the form is read
    (the body is bounded by :class:`portal_app.web.app.BodyLimit` all the same).
    """
    next_path = safe_next(request.query_params.get("next"))
    if not is_same_origin(request):
        return _login_page(next_path=next_path, error=_cross_origin(), status_code=403)
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    if not expected:
        return _login_page(next_path=next_path, error=_form_expired(), status_code=403)
    form = await request.form()
    next_path = safe_next(str(form.get("next") or ""))
    email = str(form.get("email") or "").strip()
    submitted = str(form.get("csrf_token") or "")
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        return _login_page(next_path=next_path, email=email, error=_form_expired(),
                           status_code=403)
    try:
        signed_in = await run_in_threadpool(
            accounts.sign_in, email=email, password=str(form.get("password") or ""),
            address=request.client.host if request.client else None, uow=_uow())
    except RateLimited as limited:
        minutes = max(1, math.ceil(limited.retry_after / 60))
        page = _login_page(next_path=next_path, email=email, error=ct(
            "Too many failed sign-in attempts. Try again in {minutes} min.", minutes=minutes),
            status_code=429)
        page.headers["Retry-After"] = str(limited.retry_after)
        return page
    except AuthenticationFailed:
        # One message for an unknown email and a wrong password: no user enumeration.
        return _login_page(next_path=next_path, email=email, error=ct(
            "That email and password don't match an account. Check them and try again."),
            status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    _set_session_cookie(response, signed_in.token)
    response.delete_cookie(LOGIN_COOKIE, path=CONSOLE_LOGIN, httponly=True, samesite="strict",
                           secure=get_settings().secure_cookies)
    return response


async def logout(request: Request) -> Response:
    """POST /console/logout: end the session; needs the session's CSRF token."""
    if not is_same_origin(request):
        return Response(_cross_origin(), status_code=403, media_type="text/plain")
    form = await request.form()
    token = request.cookies.get(COOKIE)
    try:
        identity = await run_in_threadpool(accounts.console_identity, token, uow=_uow())
    except AuthenticationFailed:
        identity = None
    if identity is not None:
        submitted = str(form.get("csrf_token") or "")
        if not hmac.compare_digest(identity.csrf_token.encode(), submitted.encode()):
            return Response(_form_expired(), status_code=403, media_type="text/plain")
        await run_in_threadpool(accounts.sign_out, token, uow=_uow())
    # Without a live session there is nothing to protect: just drop the stale cookie.
    response = RedirectResponse(f"{CONSOLE_LOGIN}?signed_out=1", status_code=303)
    _clear_session_cookie(response)
    return response


ROUTES: list = [
    Route(CONSOLE_LOGIN, login_form, methods=["GET"]),
    Route(CONSOLE_LOGIN, login, methods=["POST"]),
    Route(CONSOLE_LOGOUT, logout, methods=["POST"]),
]

LOGIN_STYLE = """
  :root {
    --ink: #1c2024; --muted: #60646c; --line: #e0e1e6; --bg: #f7f8fa;
    --accent: #3e63dd; --accent-dark: #3358d4; --error: #ce2c31; --error-bg: #fff1f0;
    --notice-bg: #edf2fe;
  }
  * { box-sizing: border-box; }
  html, body { margin: 0; height: 100%; }
  body {
    font-family: Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto,
      "Helvetica Neue", Arial, sans-serif;
    color: var(--ink); background: var(--bg); -webkit-font-smoothing: antialiased;
    display: flex; align-items: center; justify-content: center; padding: 24px;
  }
  main { width: 100%; max-width: 400px; }
  .brand { display: flex; align-items: center; gap: 10px; margin-bottom: 24px;
           font-weight: 650; font-size: 18px; letter-spacing: -0.01em; }
  .logo { width: 32px; height: 32px; border-radius: 8px; background: var(--accent);
          color: #fff; display: grid; place-items: center; font-size: 16px; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 12px;
          padding: 32px 28px; box-shadow: 0 1px 2px rgba(16,24,40,.04),
          0 8px 24px -12px rgba(16,24,40,.12); }
  h1 { font-size: 20px; line-height: 1.3; margin: 0 0 6px; letter-spacing: -0.01em; }
  .lead { color: var(--muted); font-size: 14px; margin: 0 0 24px; line-height: 1.5; }
  label { display: block; font-size: 13px; font-weight: 560; margin: 0 0 6px; }
  input[type=email], input[type=password] {
    width: 100%; font: inherit; font-size: 15px; padding: 10px 12px; margin-bottom: 16px;
    border: 1px solid #cdced6; border-radius: 8px; background: #fff; color: var(--ink);
  }
  input:focus { outline: 2px solid var(--accent); outline-offset: -1px;
                border-color: var(--accent); }
  button {
    width: 100%; font: inherit; font-size: 15px; font-weight: 600; color: #fff;
    background: var(--accent); border: 0; border-radius: 8px; padding: 11px 14px;
    cursor: pointer; margin-top: 4px;
  }
  button:hover { background: var(--accent-dark); }
  button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
  .msg { font-size: 14px; line-height: 1.45; border-radius: 8px; padding: 10px 12px;
         margin: 0 0 20px; }
  .error { color: var(--error); background: var(--error-bg); border: 1px solid #fdbdbe; }
  .notice { color: #1f2d5c; background: var(--notice-bg); border: 1px solid #c6d4f9; }
"""

LOGIN_BODY = """<main>
  <div class="brand"><span class="logo" aria-hidden="true">&#9670;</span>{product}</div>
  <div class="card">
    <h1>{title}</h1>
    <p class="lead">{lead}</p>
    {message}
    <form method="post" action="{action}" novalidate>
      <input type="hidden" name="csrf_token" value="{csrf}">
      <input type="hidden" name="next" value="{next}">
      <label for="email">{email_label}</label>
      <input id="email" name="email" type="email" autocomplete="username" required
             value="{email}"{email_autofocus}>
      <label for="password">{password_label}</label>
      <input id="password" name="password" type="password" autocomplete="current-password"
             required{password_autofocus}>
      <button type="submit">{submit}</button>
    </form>
  </div>
</main>"""
