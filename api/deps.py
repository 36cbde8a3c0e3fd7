"""What routes ask for: a database connection and the principal calling, as Annotated aliases.

DbConn               a pooled connection; a route that writes commits it itself
CurrentPrincipal     any authenticated caller (API key or session), rate limited
HomeReader           a caller whose role may see addresses and UPRNs (not regional analysts)
Actor                a caller who may change things (acknowledge, record case events)
SystemPrincipal      a borough system or admin (webhooks, provisioning)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from fastapi import Depends, Query, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.concurrency import run_in_threadpool

from api.auth import authenticate_api_key
from api.errors import ForbiddenError, InvalidRequestError, RateLimitedError, UnauthenticatedError
from api.principal import ACTING_ROLES, HOME_ROLES, SYSTEM_ROLES, Principal, Role
from api.ratelimit import RateLimiter
from api.sessions import csrf_matches, session_principal
from api.settings import ApiSettings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(slots=True)
class Runtime:
    """What a running app holds: set up in the lifespan, found on `app.state.runtime`."""

    settings: ApiSettings
    pool: ConnectionPool | None
    limiter: RateLimiter
    templates: Jinja2Templates
    login_secret: bytes
    # As many as the pool has connections: a request waits for one here, in the event loop,
    # before it takes a connection (see get_conn). Made in the lifespan, on the serving loop.
    db_slots: asyncio.Semaphore | None = None


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_conn(request: Request) -> AsyncIterator[psycopg.Connection[Any]]:
    """A pooled connection, committed when the route returns (rolled back if it raised).

    Waiting for a free connection happens here, in the event loop, and not in a worker thread:
    threads blocked in the pool's getconn would otherwise take every worker thread while the
    requests that hold connections wait for a thread to finish on, and the server would stall
    until the waits time out. No connection free within DAMP_POOL_WAIT_S raises PoolTimeout,
    which the error handlers turn into 503 with Retry-After.
    """
    runtime = runtime_of(request)
    pool, slots = runtime.pool, runtime.db_slots
    if pool is None or slots is None:
        raise RuntimeError("the pool opens in the app's lifespan: serve the app to use it")
    wait_s = runtime.settings.pool_wait_s
    try:
        await asyncio.wait_for(slots.acquire(), wait_s)
    except TimeoutError as err:
        raise PoolTimeout(f"no database connection free within {wait_s} s") from err
    try:
        conn = await run_in_threadpool(pool.getconn, wait_s)
        try:
            yield conn
        except BaseException:
            await run_in_threadpool(_give_back, pool, conn, commit=False)
            raise
        await run_in_threadpool(_give_back, pool, conn, commit=True)
    finally:
        slots.release()


def _give_back(pool: ConnectionPool, conn: psycopg.Connection[Any], *, commit: bool) -> None:
    try:
        if commit:
            conn.commit()
        else:
            # A broken connection cannot roll back; the pool replaces it either way.
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
    finally:
        pool.putconn(conn)


# Function scope: the connection goes back to the pool (committed) as soon as the route
# returns, before the response is encoded and sent, so what a request wrote (its audit entry)
# is committed before the data leaves and a slow client never holds a connection.
DbConn = Annotated[psycopg.Connection[Any], Depends(get_conn, scope="function")]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key: `Authorization: Bearer dw_<key id>_<secret>`.",
)
_cookie = APIKeyCookie(
    name="dw_session",
    auto_error=False,
    scheme_name="Session",
    description="The officers' web page session (unsafe methods also need X-CSRF-Token).",
)


def get_principal(
    request: Request,
    conn: DbConn,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _cookie_doc: Annotated[str | None, Depends(_cookie)],
) -> Principal:
    """Authenticate by API key, else by session cookie; enforce CSRF and the rate limit."""
    runtime = runtime_of(request)
    principal: Principal | None
    if bearer is not None:
        principal = authenticate_api_key(conn, bearer.credentials)
    else:
        token = request.cookies.get(runtime.settings.session_cookie_name)
        principal = session_principal(conn, token) if token else None
    if principal is None:
        raise UnauthenticatedError(
            "a valid API key (Authorization: Bearer ...) or a login session is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method not in SAFE_METHODS and not csrf_matches(
        principal, request.headers.get("x-csrf-token")
    ):
        raise ForbiddenError("missing or wrong X-CSRF-Token for this session")
    wait_s = runtime.limiter.acquire(principal.rate_key)
    if wait_s > 0:
        raise RateLimitedError(
            "too many requests",
            headers={"Retry-After": str(runtime.limiter.retry_after_s(wait_s))},
        )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


# Checks that do no I/O are coroutines: FastAPI runs a plain function in a worker thread, a
# hop that costs more than the check.
def _requiring(
    roles: frozenset[Role], what: str
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise ForbiddenError(f"the {principal.role} role may not {what}")
        return principal

    return check


HomeReader = Annotated[
    Principal, Depends(_requiring(HOME_ROLES, "see individual homes, sensors or cases"))
]
Actor = Annotated[Principal, Depends(_requiring(ACTING_ROLES, "change alerts or cases"))]
SystemPrincipal = Annotated[
    Principal, Depends(_requiring(SYSTEM_ROLES, "manage integrations or provisioning"))
]


async def get_time_zone(
    request: Request,
    tz: Annotated[
        str | None,
        Query(
            description="IANA time zone for times in the response, e.g. Europe/London.",
            examples=["Europe/London"],
            max_length=64,
        ),
    ] = None,
) -> ZoneInfo:
    name = tz or runtime_of(request).settings.default_time_zone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as err:
        raise InvalidRequestError(f"unknown time zone {name!r}") from err


TimeZone = Annotated[ZoneInfo, Depends(get_time_zone)]
