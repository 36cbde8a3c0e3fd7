"""The cases export in the damp-and-mould data model's shape, as dicts and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from alert_factories import BOROUGH, OTHER_BOROUGH, Conn, add_assessment, add_home

from alerts.audit import list_audit
from alerts.cases import open_case, record_event
from alerts.export import COLUMNS, cases_csv, cases_export
from alerts.records import list_alerts
from alerts.rules import evaluate_alerts

pytestmark = pytest.mark.postgres

AWARE = datetime(2025, 12, 22, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
OFFICER = "officer@hackney.example"


def test_sensor_case_exports_as_an_environmental_sensor_investigation_keyed_on_uprn(
    db: Conn,
) -> None:
    """A case from a red alert, investigated late, exports with the model's codes and flags."""
    uprn = add_home(db)
    add_assessment(db, uprn=uprn, assessed_at=AWARE, band="red")
    evaluate_alerts(db, now=AWARE)
    [alert] = list_alerts(db, borough=BOROUGH, uprn=uprn)
    case = open_case(
        db,
        uprn=uprn,
        borough_code=BOROUGH,
        hazard="significant",
        aware_at=AWARE,
        opened_by=OFFICER,
        alert_id=alert.alert_id,
    )
    record_event(
        db,
        case_id=case.case_id,
        kind="investigation_completed",
        occurred_at=datetime(2026, 1, 9, 11, 0, tzinfo=UTC),  # due 8 January: one day late
        recorded_by=OFFICER,
        detail={"hazard_found": True, "findings": "Mould behind the wardrobe."},
    )
    other = add_home(db, borough_code=OTHER_BOROUGH)
    open_case(
        db,
        uprn=other,
        borough_code=OTHER_BOROUGH,
        hazard="emergency",
        aware_at=AWARE,
        opened_by="x",
    )
    [row] = cases_export(db, borough=BOROUGH, now=NOW)
    assert set(row) == set(COLUMNS)
    assert row["uprn"] == str(uprn)
    assert row["trigger_source"] == "Environmental Sensor"
    assert (row["investigation_type"], row["severity"]) == ("Standard", "High")
    assert row["date_reported"] == "2025-12-22"
    assert row["investigation_completed_date"] == "2026-01-09"
    assert row["hazard_confirmed"] is True
    assert row["sla_breach_flag"] is True
    assert row["notification_sent_to_tenant"] is False
    assert row["report_status"] == "Under Review"
    assert row["investigation_notes"] == "Mould behind the wardrobe."
    assert [e.action for e in list_audit(db, subject_type="borough", subject_id=BOROUGH)] == [
        "export.cases"
    ]


def test_csv_export_has_the_header_and_one_line_per_case(db: Conn) -> None:
    """The CSV parses back to the same columns, booleans written as true/false."""
    uprn = add_home(db)
    for _ in range(2):
        open_case(
            db,
            uprn=uprn,
            borough_code=BOROUGH,
            hazard="significant",
            aware_at=AWARE,
            opened_by=OFFICER,
        )
    rows = list(csv.DictReader(io.StringIO(cases_csv(db, borough=BOROUGH, now=NOW))))
    assert len(rows) == 2
    assert tuple(rows[0]) == COLUMNS
    assert rows[0]["trigger_source"] == "Tenant Report"
    assert rows[0]["sla_breach_flag"] == "true"
    assert rows[0]["hazard_confirmed"] == ""
