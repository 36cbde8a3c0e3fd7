"""Liveness, readiness and metrics: the only routes that need no credentials."""

from __future__ import annotations

import logging

import psycopg
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import PoolTimeout
from pydantic import BaseModel

from api.deps import runtime_of

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 2.0

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", summary="Liveness: the process is serving")
def healthz() -> Health:
    """Always ok while the process can answer; says nothing about the database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses={503: {"model": Health, "description": "The database is unreachable."}},
)
def readyz(request: Request, response: Response) -> Health:
    """Ok when a pooled connection runs a query; 503 while the database is unreachable."""
    pool = runtime_of(request).pool
    try:
        if pool is None:
            raise PoolTimeout("the pool is not open")
        with pool.connection(timeout=READY_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")
    except (PoolTimeout, psycopg.Error) as err:
        logger.warning("not ready: %s", err)
        response.status_code = 503
        return Health(status="database unavailable")
    return Health(status="ok")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route template, in the Prometheus text format."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
