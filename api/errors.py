"""One error body for every failure, and the exceptions routes raise to produce it.

ApiError                  {"error": {"code", "message", "request_id"}} with its status
├── UnauthenticatedError  401  no key or session, or one unknown, revoked or expired
├── ForbiddenError        403  the role may not do this (never hides another borough)
├── NotFoundError         404  no such thing, or it belongs to another borough
├── ConflictError         409  the request contradicts the current state
├── InvalidRequestError   422  well-formed but meaningless (and FastAPI's validation, and
│                              a value the database cannot store, e.g. a NUL character)
├── RateLimitedError      429  too many requests from one key or login
└── UnavailableError      503  no database connection came free in time (a full pool)
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

logger = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code.", examples=["not_found"])
    message: str = Field(description="What went wrong, for a person.", examples=["no such home"])
    request_id: str | None = Field(default=None, description="Quote this when reporting a problem.")
    fields: list[dict[str, Any]] | None = Field(
        default=None, description="For invalid requests: which inputs were wrong, and why."
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers


class UnauthenticatedError(ApiError):
    status = 401
    code = "unauthenticated"


class ForbiddenError(ApiError):
    status = 403
    code = "forbidden"


class NotFoundError(ApiError):
    status = 404
    code = "not_found"


class ConflictError(ApiError):
    status = 409
    code = "conflict"


class InvalidRequestError(ApiError):
    status = 422
    code = "invalid_request"


class RateLimitedError(ApiError):
    status = 429
    code = "rate_limited"


class UnavailableError(ApiError):
    status = 503
    code = "unavailable"


# A full pool frees a connection within milliseconds once the burst passes.
POOL_RETRY_AFTER_S = 1


def _described(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


# Declared on every router, so the OpenAPI document lists the error bodies clients will meet.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _described("No valid API key or session."),
    403: _described("The caller's role may not do this."),
    404: _described("Not found, or not in the caller's borough."),
    422: _described("Invalid parameters or body."),
    429: _described("Rate limit exceeded; retry after the Retry-After header's seconds."),
    503: _described("Too busy to serve now; retry after the Retry-After header's seconds."),
}
PUBLIC_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: ERROR_RESPONSES[429],
    503: ERROR_RESPONSES[503],
}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    fields: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    detail = ErrorDetail(
        code=code,
        message=message,
        request_id=getattr(request.state, "request_id", None),
        fields=fields,
    )
    body = ErrorBody(error=detail).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error, ours or the framework's, leaves in the same shape."""

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, ApiError):
            raise exc
        return error_response(request, exc.status, exc.code, exc.message, headers=exc.headers)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, HTTPException):
            raise exc
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
        return error_response(
            request,
            exc.status_code,
            codes.get(exc.status_code, "http_error"),
            str(exc.detail),
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, RequestValidationError):
            raise exc
        fields = [
            {"location": [str(p) for p in e.get("loc", ())], "problem": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return error_response(
            request, 422, "invalid_request", "the request's parameters are invalid", fields=fields
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, _route_of(request))
        return error_response(request, 500, "internal_error", "something went wrong on our side")

    async def on_pool_timeout(request: Request, exc: Exception) -> JSONResponse:
        # Every pooled connection is busy: the client should come back, not see a 500.
        logger.warning("no database connection free for %s: %s", _route_of(request), exc)
        return error_response(
            request,
            UnavailableError.status,
            UnavailableError.code,
            "the service is busy; retry shortly",
            headers={"Retry-After": str(POOL_RETRY_AFTER_S)},
        )

    async def on_data_error(request: Request, exc: Exception) -> JSONResponse:
        # The database refused a value it was given (SQLSTATE class 22: out of range, a NUL in
        # JSON) or psycopg refused to send one (a NUL in text): the request's fault, whichever
        # field carried it. Any other DataError is ours.
        if not isinstance(exc, psycopg.DataError) or not _refused_value(exc):
            return await on_unexpected(request, exc)
        logger.warning("database refused a value on %s: %s", _route_of(request), exc)
        return error_response(
            request,
            InvalidRequestError.status,
            InvalidRequestError.code,
            "the request holds a value that cannot be stored (e.g. a NUL character)",
        )

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(PoolTimeout, on_pool_timeout)
    app.add_exception_handler(psycopg.DataError, on_data_error)
    app.add_exception_handler(Exception, on_unexpected)


def _refused_value(exc: psycopg.DataError) -> bool:
    sqlstate = exc.sqlstate or ""
    return sqlstate.startswith("22") or (not sqlstate and "NUL (0x00)" in str(exc))


def _route_of(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))
