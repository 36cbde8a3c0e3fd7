"""The FastAPI application: `create_app(settings)` is all a server (or a test) needs.

The table of contents:

    /healthz /readyz /metrics          operations, no credentials
    /api/v1/boroughs                   boroughs, and aggregates for regional analysts
    /api/v1/homes ...                  homes, rooms, readings, risk history
    /api/v1/alerts ...                 the inbox, acknowledging
    /api/v1/cases ...                  Awaab's Law cases, events and clocks
    /api/v1/sensors ...                sensor health, placement, provisioning
    /api/v1/webhooks ...               webhook subscriptions
    /api/v1/exports ...                CSV exports
    / /login /homes/... /cases/...     the officers' web page
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CollectorRegistry

from api.deps import Runtime
from api.errors import install_error_handlers
from api.metrics import MetricsMiddleware, RequestMetrics
from api.ratelimit import RateLimiter
from api.routes import alerts, boroughs, cases, health, homes, readings, sensors, webhooks
from api.settings import ApiSettings
from api.web import actions, login, pages
from api.web.filters import install_filters
from store.pool import open_pool

logger = logging.getLogger(__name__)

API_DESCRIPTION = """
Dampwatch's REST API for borough systems.

Authenticate with an API key: `Authorization: Bearer dw_<key id>_<secret>`
(`dampwatch keys create --borough E09000009 --role borough_system`). Every key is tied to a role
and, for officers and borough systems, one borough: anything of another borough is 404.
Lists are paged with `cursor` / `next_cursor`. Errors have one shape:
`{"error": {"code", "message", "request_id"}}`.
"""


def create_app_from_environment() -> FastAPI:
    """For servers that start the app by name in each worker process
    (`uvicorn --factory api.app:create_app_from_environment --workers N`): reads DAMP_*."""
    return create_app(ApiSettings.load())


def create_app(settings: ApiSettings) -> FastAPI:
    """Build the app; its connection pool opens when it starts serving and closes when it stops."""
    web_root = resources.files("api") / "web"
    templates = Jinja2Templates(directory=str(web_root / "templates"))
    install_filters(templates.env, settings.default_time_zone)
    secret = settings.secret_key
    runtime = Runtime(
        settings=settings,
        pool=None,
        limiter=RateLimiter(rate_per_s=settings.rate_limit_per_s, burst=settings.rate_limit_burst),
        templates=templates,
        login_secret=(secret.get_secret_value().encode() if secret else secrets.token_bytes(32)),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.pool = open_pool(
            settings.require_database_url(),
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            name="api",
        )
        runtime.db_slots = asyncio.Semaphore(settings.pool_max_size)
        try:
            yield
        finally:
            runtime.pool.close()
            runtime.pool = None
            runtime.db_slots = None

    app = FastAPI(
        title="Dampwatch",
        version="1",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.metrics = RequestMetrics(CollectorRegistry())
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    install_error_handlers(app)
    app.add_exception_handler(login.LoginRequiredError, login.login_redirect)
    app.mount("/static", StaticFiles(directory=str(web_root / "static")), name="static")

    app.include_router(health.router)
    app.include_router(boroughs.router)
    app.include_router(homes.router)
    app.include_router(readings.router)
    app.include_router(alerts.router)
    app.include_router(cases.router)
    app.include_router(sensors.router)
    app.include_router(webhooks.router)
    app.include_router(login.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    return app
