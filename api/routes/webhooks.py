"""Webhook subscriptions: a borough system asks to be told of alerts and case changes.

Subscriptions are stored and stopped by alerts.subscriptions, which audits both. A URL is
refused (422) when its host does not resolve, or resolves to a loopback, private, link-local or
other address inside a network (alerts.webhook_destination), unless
DAMP_NOTIFY_ALLOW_PRIVATE_WEBHOOKS is true: a key holder must not be able to point Dampwatch at
the network it runs in. The notifier checks again, and pins the address, at each delivery.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, HttpUrl

from alerts import subscriptions
from alerts.webhook_destination import RefusedDestinationError, resolve_destination
from api.deps import DbConn, SystemPrincipal, runtime_of
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
    body: SubscriptionIn, request: Request, db: DbConn, principal: SystemPrincipal
) -> SubscriptionCreated:
    """Events of the caller's borough will be POSTed, signed, to `url`, with retries.

    422 if the URL's host does not resolve, or resolves to an address inside a network."""
    borough = principal.scope or body.borough_code
    if borough is None:
        raise InvalidRequestError("an admin must name the borough_code whose events to send")
    if principal.scope is not None and body.borough_code not in (None, principal.scope):
        raise NotFoundError("no such borough")
    if db.execute("SELECT 1 FROM boroughs WHERE gss_code = %s", (borough,)).fetchone() is None:
        raise NotFoundError("no such borough")
    url = str(body.url)
    _check_destination(
        url, allow_private=runtime_of(request).settings.notify_allow_private_webhooks
    )
    try:
        created, secret = subscriptions.add_webhook_subscription(
            db,
            borough_code=borough,
            url=url,
            created_by=principal.actor,
            event_types=tuple(body.event_types),
            description=body.description,
            secret=body.secret,
        )
    except subscriptions.SubscriptionError as err:
        raise InvalidRequestError(str(err)) from err
    db.commit()
    return SubscriptionCreated(**asdict(created), secret=secret)


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
    found = webhook_queries.list_subscriptions(
        db, borough=principal.scope, subscription_id=subscription_id
    )
    if not found or not subscriptions.deactivate_webhook_subscription(
        db,
        subscription_id=subscription_id,
        borough_code=found[0].borough_code,
        actor=principal.actor,
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


def _check_destination(url: str, *, allow_private: bool) -> None:
    try:
        resolve_destination(url, allow_private=allow_private)
    except RefusedDestinationError as err:
        raise InvalidRequestError(f"webhook URL refused: {err}") from err
    except (OSError, UnicodeError) as err:
        # socket.gaierror and friends: a name that does not resolve cannot be checked.
        raise InvalidRequestError(
            f"webhook URL refused: its host does not resolve ({err})"
        ) from err
