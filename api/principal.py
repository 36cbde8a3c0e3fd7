"""Who is calling, and which boroughs' data they may see.

Borough isolation is decided here, once: every query takes the `borough` a principal is scoped
to (None for admin), and a row of another borough is simply not found. A caller therefore gets
404 for another borough's home, alert, case or sensor, never 403, so even existence does not
leak. Regional analysts see aggregates only: the routes that return addresses or UPRNs refuse
their role outright (403), whatever the subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    BOROUGH_SYSTEM = "borough_system"
    REGIONAL_ANALYST = "regional_analyst"
    ADMIN = "admin"


BOROUGH_ROLES = frozenset({Role.OFFICER, Role.BOROUGH_SYSTEM})
# Roles that may see a home's address, UPRN and readings.
HOME_ROLES = frozenset({Role.OFFICER, Role.BOROUGH_SYSTEM, Role.ADMIN})
# Roles that may change things: acknowledge alerts, record case events.
ACTING_ROLES = frozenset({Role.OFFICER, Role.BOROUGH_SYSTEM, Role.ADMIN})
# Roles that manage integrations: webhook subscriptions, sensor provisioning.
SYSTEM_ROLES = frozenset({Role.BOROUGH_SYSTEM, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: an API key or a logged-in user."""

    kind: str  # "api_key" or "session"
    subject: str  # key id or email, for the audit log; never shown to other boroughs
    role: Role
    borough_code: str | None
    csrf_token: str | None = None  # set for sessions: unsafe methods must echo it

    @property
    def scope(self) -> str | None:
        """The borough whose rows this principal may see; None means every borough."""
        return None if self.role in (Role.ADMIN, Role.REGIONAL_ANALYST) else self.borough_code

    @property
    def actor(self) -> str:
        """How this principal is named in the audit log."""
        return f"{self.kind}:{self.subject}"

    @property
    def rate_key(self) -> str:
        return f"{self.kind}:{self.subject}"


def check_role_scope(role: str, borough_code: str | None) -> Role:
    """Validate a role and the borough it is tied to, as the tables' CHECKs do."""
    try:
        parsed = Role(role)
    except ValueError as err:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidRoleError(f"unknown role {role!r}; expected one of {allowed}") from err
    if parsed in BOROUGH_ROLES and borough_code is None:
        raise InvalidRoleError(f"role {role} needs a borough (GSS code)")
    if parsed not in BOROUGH_ROLES and borough_code is not None:
        raise InvalidRoleError(f"role {role} spans boroughs and takes no borough")
    return parsed


class InvalidRoleError(ValueError):
    """A role name that does not exist, or a borough given to a role that takes none."""
