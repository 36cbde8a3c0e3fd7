"""Webhook subscriptions: a borough system asks to be told of alerts and case changes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field, HttpUrl

from alerts.signing import new_secret
from api.deps import DbConn, SystemPrincipal
from api.errors import ERROR_RESPONSES, InvalidRequestError, NotFoundError
from api.queries import webhooks as webhook_queries
from api.queries.webhooks import DeliveryOut, SubscriptionCreated, SubscriptionOut

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)

SubscriptionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
EventType = Literal[
    "alert.raised",
    "alert.escalated",
    "alert.cleared",
    "case.opened",
    "case.updated",
    "case.deadline_breached",
]


class SubscriptionIn(BaseModel):
    url: HttpUrl = Field(description="Where to POST events (https in production).")
    event_types: list[EventType] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=500)
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="Default: one is generated."
    )
    borough_code: str | None = Field(
        default=None, pattern=r"^E09[0-9]{6}$", description="Admins only: whose events."
    )


@router.get("", summary="List webhook subscriptions")
def list_subscriptions(db: DbConn, principal: SystemPrincipal) -> list[SubscriptionOut]:
    return webhook_queries.list_subscriptions(db, borough=principal.scope)


@router.post("", summary="Subscribe to events", status_code=201)
def create_subscription(
    body: SubscriptionIn, db: DbConn, principal: SystemPrincipal
) -> SubscriptionCreated:
    """Events of the caller's borough will be POSTed, signed, to `url`, with retries."""
    borough = principal.scope or body.borough_code
    if borough is None:
        raise InvalidRequestError("an admin must name the borough_code whose events to send")
    if principal.scope is not None and body.borough_code not in (None, principal.scope):
        raise NotFoundError("no such borough")
    secret = body.secret or new_secret()
    created = webhook_queries.create_subscription(
        db,
        borough_code=borough,
        url=str(body.url),
        secret=secret,
        event_types=list(body.event_types),
        description=body.description,
        actor=principal.actor,
    )
    db.commit()
    return SubscriptionCreated(**created.model_dump(), secret=secret)


@router.get("/{subscription_id}", summary="One subscription")
def get_subscription(
    subscription_id: SubscriptionId, db: DbConn, principal: SystemPrincipal
) -> SubscriptionOut:
    found = webhook_queries.list_subscriptions(
        db, borough=principal.scope, subscription_id=subscription_id
    )
    if not found:
        raise NotFoundError("no such subscription")
    return found[0]


@router.delete("/{subscription_id}", summary="Stop a subscription", status_code=204)
def delete_subscription(
    subscription_id: SubscriptionId, db: DbConn, principal: SystemPrincipal
) -> Response:
    """Deactivates it: nothing more is sent; what was sent stays in the delivery log."""
    if not webhook_queries.deactivate_subscription(
        db, subscription_id=subscription_id, borough=principal.scope, actor=principal.actor
    ):
        raise NotFoundError("no such subscription")
    db.commit()
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", summary="What was sent, and how it went")
def list_deliveries(
    subscription_id: SubscriptionId,
    db: DbConn,
    principal: SystemPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    get_subscription(subscription_id, db, principal)
    return webhook_queries.list_deliveries(db, subscription_id=subscription_id, limit=limit)
