"""Logging in and out of the web page, and the session a page needs.

The login form is protected against login CSRF by a signed double-submit token: a random nonce
in a short-lived cookie, and the same nonce with its HMAC in the form. The HMAC key is
DAMP_SECRET_KEY (random per process when unset).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import verify_login
from api.deps import DbConn, runtime_of
from api.principal import Principal
from api.sessions import close_session, csrf_matches, open_session, session_principal

router = APIRouter(include_in_schema=False)

LOGIN_NONCE_COOKIE = "dw_login"
LOGIN_NONCE_TTL_S = 1800
LOGIN_ERRORS = {
    "expired": "Your login form expired. Please try again.",
    "mismatch": "That email and password do not match an active login.",
}


class LoginRequiredError(Exception):
    """A page was asked for without a live session: the handler redirects to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def web_principal(request: Request, conn: DbConn) -> Principal:
    """The logged-in user of a page; unsafe requests must carry the session's CSRF token."""
    token = request.cookies.get(runtime_of(request).settings.session_cookie_name)
    principal = session_principal(conn, token) if token else None
    if principal is None:
        raise LoginRequiredError(request.url.path)
    request.state.principal = principal
    return principal


WebUser = Annotated[Principal, Depends(web_principal)]


async def check_form_csrf(request: Request, principal: WebUser) -> Principal:
    """For POSTed forms: the hidden csrf_token field must match the session's."""
    form = await request.form()
    presented = form.get("csrf_token")
    if not isinstance(presented, str) or not csrf_matches(principal, presented):
        raise LoginRequiredError(request.url.path)
    return principal


FormUser = Annotated[Principal, Depends(check_form_csrf)]


def login_redirect(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, LoginRequiredError):
        raise exc
    return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", error: str | None = None) -> Response:
    runtime = runtime_of(request)
    nonce = secrets.token_urlsafe(16)
    response = runtime.templates.TemplateResponse(
        request,
        "login.html",
        {
            "login_token": _sign(runtime.login_secret, nonce),
            "next": _safe_next(next),
            "error": LOGIN_ERRORS.get(error or ""),
        },
    )
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        max_age=LOGIN_NONCE_TTL_S,
        httponly=True,
        samesite="strict",
        secure=runtime.settings.session_cookie_secure,
    )
    return response


@router.post("/login")
def login(
    request: Request,
    conn: DbConn,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    login_token: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    runtime = runtime_of(request)
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    if not nonce or not hmac.compare_digest(login_token, _sign(runtime.login_secret, nonce)):
        return _back_to_login(next, "expired")
    user = verify_login(conn, email=email, password=password)
    if user is None:
        return _back_to_login(next, "mismatch")
    token = open_session(
        conn, user_id=user.user_id, ttl=timedelta(seconds=runtime.settings.session_ttl_s)
    )
    conn.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        runtime.settings.session_cookie_name,
        token,
        max_age=runtime.settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.session_cookie_secure,
    )
    response.delete_cookie(LOGIN_NONCE_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, conn: DbConn, principal: FormUser) -> Response:
    token = request.cookies.get(runtime_of(request).settings.session_cookie_name)
    if token:
        close_session(conn, token)
        conn.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(runtime_of(request).settings.session_cookie_name)
    return response


def _back_to_login(next_path: str, error: str) -> Response:
    return RedirectResponse(
        f"/login?next={quote(_safe_next(next_path))}&error={quote(error)}", status_code=303
    )


def _safe_next(next_path: str) -> str:
    """Only paths on this site: never redirect a fresh login to another host."""
    if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        return "/"
    return next_path


def _sign(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()
