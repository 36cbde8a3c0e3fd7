"""The written summary for the tenant: a draft from the case, as text and a printable page.

Awaab's Law requires a written summary of the investigation's findings within 3 working days of
it concluding: what was found, the hazards, what will be done and by when, and how to get in
touch. The draft here is built from the case's events and clocks, in plain words that never
blame the household; the officer edits it (`save_summary`) and records sending it (a
`summary_sent` event, whose time satisfies the clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from jinja2 import Environment

from alerts.case_records import Case, CaseEvent
from alerts.cases import get_case
from alerts.clocks import Clock, case_clocks
from alerts.working_days import LONDON

SELECT_HOME = "SELECT address, postcode FROM homes WHERE uprn = %s"
SELECT_ALERT_EXPLANATION = "SELECT explanation FROM alerts WHERE alert_id = %s"

_html = Environment(autoescape=True, keep_trailing_newline=True)
HTML_TEMPLATE = _html.from_string(
    """<article class="tenant-summary">
<header>
<p class="landlord">{{ landlord_name }}</p>
<p class="reference">Our reference: {{ reference }}</p>
<p class="date">{{ today }}</p>
<p class="address">{{ address }}</p>
</header>
{% for heading, paragraphs in sections %}<section>
{% if heading %}<h2>{{ heading }}</h2>
{% endif %}{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}</section>
{% endfor %}</article>
"""
)


@dataclass(frozen=True, slots=True)
class TenantSummary:
    case_id: int
    reference: str
    text: str
    html: str
    # The last day the summary may be sent (None before the investigation has concluded).
    due_date: date | None
    # True when `text` is the officer's saved edit rather than the generated draft.
    edited: bool


def draft_tenant_summary(
    conn: psycopg.Connection[Any],
    *,
    case_id: int,
    now: datetime,
    borough: str | None = None,
    landlord_name: str = "Your landlord",
    contact: str = "the repairs team, using the contact details on your tenancy agreement",
) -> TenantSummary:
    """The summary to send: the officer's saved text if any, otherwise a fresh draft."""
    case = get_case(conn, case_id=case_id, borough=borough)
    home = conn.execute(SELECT_HOME, (case.uprn,)).fetchone()
    address = ", ".join(p for p in (home or ()) if p) or f"UPRN {case.uprn}"
    sensor_note = None
    if case.alert_id is not None:
        row = conn.execute(SELECT_ALERT_EXPLANATION, (case.alert_id,)).fetchone()
        sensor_note = None if row is None else str(row[0])
    clocks = {clock.name: clock for clock in case_clocks(case, now)}
    summary_clock = clocks.get("written_summary")
    if case.summary_text:
        sections: list[tuple[str, list[str]]] = [
            ("", [p.strip() for p in case.summary_text.split("\n\n") if p.strip()])
        ]
    else:
        sections = _sections(case, clocks, sensor_note=sensor_note, contact=contact)
    today = now.astimezone(LONDON).strftime("%-d %B %Y")
    text = _text(landlord_name, case.reference, today, address, sections)
    html = HTML_TEMPLATE.render(
        landlord_name=landlord_name,
        reference=case.reference,
        today=today,
        address=address,
        sections=sections,
    )
    return TenantSummary(
        case_id=case.case_id,
        reference=case.reference,
        text=case.summary_text or text,
        html=html,
        due_date=None if summary_clock is None else summary_clock.due_date,
        edited=bool(case.summary_text),
    )


def _day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return value.strftime("%A %-d %B %Y")


def _last(case: Case, kind: str) -> CaseEvent | None:
    found = [e for e in case.events if e.kind == kind]
    return found[-1] if found else None


def _sections(
    case: Case, clocks: dict[str, Clock], *, sensor_note: str | None, contact: str
) -> list[tuple[str, list[str]]]:
    opening = [
        "Dear resident,",
        f"On {_day(case.aware_at)} we became aware of a possible damp and mould problem in "
        "your home. This letter sets out what our investigation found, what we will do about "
        "it and by when.",
    ]
    if sensor_note:
        opening.append(f"The environmental sensors in your home showed this: {sensor_note}")
    sections: list[tuple[str, list[str]]] = [("", opening)]

    investigation = _last(case, "investigation_completed")
    if investigation is None:
        due = clocks.get("investigation") or clocks.get("emergency_investigation")
        when = "" if due is None else f" We will complete it by {_day(due.due_date)}."
        sections.append(
            ("What happens next", [f"We have not yet completed our investigation.{when}"])
        )
    else:
        detail = investigation.detail
        found = [f"We investigated on {_day(investigation.occurred_at)}."]
        if detail.get("findings"):
            found.append(str(detail["findings"]))
        if detail.get("hazard_found", True):
            hazards = detail.get("hazards") or ["damp and mould"]
            found.append(f"We found a hazard to your health or safety: {', '.join(hazards)}.")
        else:
            found.append(
                "We did not find a hazard that needs work. "
                + str(detail.get("no_action_reason") or "")
            )
        sections.append(("What we found", [p.strip() for p in found]))
        sections.append(("What we will do and by when", _actions(detail, clocks)))

    sections.append(
        (
            "Keeping in touch",
            [
                "We will keep you updated as the work goes on. If anything changes, or you "
                f"have questions, please contact {contact}, quoting {case.reference}.",
                "If you are unhappy with how we are dealing with this, you can use our "
                "complaints procedure and, after that, contact the Housing Ombudsman.",
            ],
        )
    )
    return sections


def _actions(detail: dict[str, Any], clocks: dict[str, Clock]) -> list[str]:
    actions: list[str] = []
    safety = clocks.get("safety_work") or clocks.get("emergency_make_safe")
    if detail.get("hazard_found", True) and safety is not None:
        what = detail.get("safety_work") or "work to make your home safe"
        actions.append(f"We will begin {what} by {_day(safety.due_date)}.")
    steps = clocks.get("further_works_steps")
    begun = clocks.get("further_works_begun")
    if steps is not None and begun is not None:
        what = detail.get("further_works") or "further work to stop the problem coming back"
        actions.append(
            f"We will also arrange {what}: we will take the first steps by "
            f"{_day(steps.due_date)} and start the work itself by {_day(begun.due_date)}."
        )
    if not actions:
        actions.append("No work is needed at present.")
    return actions


def _text(
    landlord_name: str,
    reference: str,
    today: str,
    address: str,
    sections: list[tuple[str, list[str]]],
) -> str:
    lines = [landlord_name, f"Our reference: {reference}", today, address, ""]
    for heading, paragraphs in sections:
        if heading:
            lines.extend([heading, "-" * len(heading)])
        for paragraph in paragraphs:
            lines.extend([paragraph, ""])
    return "\n".join(lines).rstrip() + "\n"
