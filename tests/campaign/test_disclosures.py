"""What an answer to centrale may show of nord's by design, so the campaigns do not call it
a leak: today only the consented group history (docs/decisions.md, "The group's library
and its diners"). Regression: the full-size fuzz reported maria's nord visits in centrale's
history of her, which her consent at centrale allows."""

from __future__ import annotations

import psycopg

from infra.local import postgres
from infra.local.seed import CENTRALE, NORD
from tests.campaign.nord import disclosed

HISTORY = "GET /venues/{venue_id}/customers/{customer_id}/history"


def nord_visits_of_consenting_diners(admin_db: psycopg.Connection) -> set[str]:
    rows = admin_db.execute(
        "SELECT v.id::text FROM diner_visits v WHERE v.venue_id = %s AND EXISTS (SELECT 1"
        " FROM diner_consents c WHERE c.venue_id = %s AND c.identity = v.identity"
        " AND c.withdrawn_at IS NULL)",
        (NORD, CENTRALE),
    ).fetchall()
    return {r[0] for r in rows}


def test_the_history_route_may_show_the_nord_visits_a_consent_at_centrale_opens(
    database: postgres.Database, admin_db: psycopg.Connection
) -> None:
    """Given the demo diner maria, whose consent is recorded at centrale, then her visits at
    nord (with nord's id and name) may appear in centrale's history route, and nowhere
    else."""
    visits = nord_visits_of_consenting_diners(admin_db)

    allowed = disclosed(database.admin_url, HISTORY)

    assert visits
    assert visits | {str(NORD), "io osteria nord"} <= allowed
    assert disclosed(database.admin_url, "GET /venues/{venue_id}/orders") == set()
