"""Diners: found by a keyed hash of their contact, their allergens and dietary notes sealed
to their row and venue, their visits, and their consent to the group's shared history.

Allergens and dietary notes never reach a log line, an error body or an audit event: audit
details say only whether something was recorded and under which key."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from customers import queries
from customers.models import (
    Consent,
    Customer,
    CustomerDetail,
    CustomerHistory,
    CustomerLookup,
    DietaryRecord,
    Visit,
    VisitInput,
)
from tenancy import Problem, not_found
from tenancy.audit import record
from tenancy.sealing import IdentityKey, SealedBox, SealingError, key_id_of

__all__ = [
    "associated_data",
    "change_consent",
    "find_or_create",
    "open_dietary",
    "read_detail",
    "read_history",
    "record_visit",
    "set_dietary",
]


def associated_data(diner_id: uuid.UUID, venue_id: uuid.UUID) -> bytes:
    """What a diner's sealed data is bound to: moved to another row or venue, it does not
    open."""
    return b"diner/" + diner_id.bytes + b"/" + venue_id.bytes


def unreadable() -> Problem:
    return Problem(
        409,
        "sealed-data-unreadable",
        "this diner's dietary record cannot be opened here (it was sealed for another record"
        " or under a key that is no longer held); record it again",
    )


def open_dietary(
    box: SealedBox, sealed: str, *, diner_id: uuid.UUID, venue_id: uuid.UUID
) -> DietaryRecord:
    try:
        plain = box.open(sealed, associated_data=associated_data(diner_id, venue_id))
    except SealingError:
        raise unreadable() from None
    return DietaryRecord.model_validate_json(plain)


def _redacted(sealed: str | None) -> dict[str, Any]:
    """An audit event's view of the sealed record: whether there is one, and its key."""
    return {"dietary_recorded": sealed is not None, "key_id": key_id_of(sealed or "") or None}


def find_or_create(
    conn: psycopg.Connection,
    identities: IdentityKey,
    *,
    venue_id: uuid.UUID,
    lookup: CustomerLookup,
    actor_user_id: uuid.UUID | None,
    new_id: uuid.UUID | None = None,
) -> Customer:
    """``new_id``: the id a new diner gets (the demo seed's stable ids); random otherwise."""
    kind, value = lookup.contact
    identity = identities.identity(kind, value)
    row = queries.find(conn, venue_id, identity)
    if row is None:
        raise not_found("venue")
    if row["id"] is not None:
        return Customer(
            id=row["id"],
            display_name=row["display_name"],
            created=False,
            created_at=row["created_at"],
        )
    diner_id = new_id or uuid.uuid4()
    queries.create(
        conn,
        diner_id=diner_id,
        venue_id=venue_id,
        group_id=row["group_id"],
        identity=identity,
        display_name=lookup.display_name,
        now=row["now"],
    )
    record(
        conn,
        action="customer.created",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="customer",
        target_id=diner_id,
        details={"before": None, "after": {"display_name": lookup.display_name}, "by": kind},
    )
    return Customer(
        id=diner_id, display_name=lookup.display_name, created=True, created_at=row["now"]
    )


def read_detail(
    conn: psycopg.Connection,
    box_for_caller: Callable[[], SealedBox | None],
    *,
    venue_id: uuid.UUID,
    diner_id: uuid.UUID,
) -> CustomerDetail:
    """``box_for_caller`` is asked once the row is read (the gate has decided by then, in
    the same round trip); None for a caller without the need to know: the record is
    withheld."""
    row = queries.detail(conn, venue_id, diner_id)
    if row is None:
        raise not_found("customer")
    box = box_for_caller()
    dietary: DietaryRecord | None = None
    if box is not None:
        sealed = row["sensitive_sealed"]
        dietary = (
            DietaryRecord(allergens=[])
            if sealed is None
            else open_dietary(box, sealed, diner_id=diner_id, venue_id=venue_id)
        )
    return CustomerDetail(
        id=row["id"],
        display_name=row["display_name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        allergens=None if dietary is None else dietary.allergens,
        dietary_notes=None if dietary is None else dietary.dietary_notes,
        dietary_withheld=dietary is None,
        consent_active=row["consent_active"],
    )


def _locked(conn: psycopg.Connection, venue_id: uuid.UUID, diner_id: uuid.UUID) -> dict[str, Any]:
    row = queries.for_change(conn, venue_id, diner_id)
    if row is None:
        raise not_found("customer")
    return row


def set_dietary(
    conn: psycopg.Connection,
    box: SealedBox,
    *,
    venue_id: uuid.UUID,
    diner_id: uuid.UUID,
    dietary: DietaryRecord,
    actor_user_id: uuid.UUID | None,
) -> None:
    """Replace the diner's allergens and dietary notes (sealed before they leave here)."""
    # Sealed before the first read: its id and venue are known, so both statements below
    # leave without waiting on each other's answers.
    clean = DietaryRecord(
        allergens=sorted(set(dietary.allergens)), dietary_notes=dietary.dietary_notes
    )
    sealed = box.seal(
        clean.model_dump_json().encode(), associated_data=associated_data(diner_id, venue_id)
    )
    row = _locked(conn, venue_id, diner_id)
    queries.write_sensitive(conn, venue_id, diner_id, sealed)
    record(
        conn,
        action="customer.dietary_changed",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="customer",
        target_id=diner_id,
        details={"before": _redacted(row["sensitive_sealed"]), "after": _redacted(sealed)},
    )


def record_visit(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    diner_id: uuid.UUID,
    visit: VisitInput,
    actor_user_id: uuid.UUID | None,
) -> Visit:
    row = _locked(conn, venue_id, diner_id)
    visited_at = visit.visited_at or row["now"]
    if visited_at.tzinfo is None:
        raise Problem(
            422,
            "invalid-body",
            "the body is not valid",
            errors=[{"field": "visited_at", "message": "give a time zone", "type": "value_error"}],
        )
    if visited_at > row["now"] + dt.timedelta(minutes=5):
        raise Problem(
            422,
            "invalid-body",
            "the body is not valid",
            errors=[
                {
                    "field": "visited_at",
                    "message": "must not be in the future",
                    "type": "value_error",
                }
            ],
        )
    visit_id = uuid.uuid4()
    queries.add_visit(
        conn,
        id=visit_id,
        venue=venue_id,
        group=row["group_id"],
        diner=diner_id,
        identity=row["identity"],
        at=visited_at,
        size=visit.party_size,
    )
    record(
        conn,
        action="customer.visit_recorded",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="customer",
        target_id=diner_id,
        details={
            "before": None,
            "after": {
                "visit_id": str(visit_id),
                "visited_at": visited_at.isoformat(),
                "party_size": visit.party_size,
            },
        },
    )
    return Visit(
        id=visit_id,
        venue_id=venue_id,
        venue_name=row["venue_name"],
        visited_at=visited_at,
        party_size=visit.party_size,
        here=True,
    )


def change_consent(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    diner_id: uuid.UUID,
    share: bool,
    actor_user_id: uuid.UUID | None,
) -> Consent:
    """Record the diner's consent here, or its withdrawal; asking for what already holds
    changes nothing."""
    row = _locked(conn, venue_id, diner_id)
    active = row["consent_id"] is not None
    if share == active:
        return Consent(customer_id=diner_id, consent_active=active, granted_at=row["granted_at"])
    before = {"consent_active": active, "granted_at": _iso(row["granted_at"])}
    if share:
        consent_id = uuid.uuid4()
        queries.grant_consent(
            conn,
            id=consent_id,
            venue=venue_id,
            group=row["group_id"],
            diner=diner_id,
            identity=row["identity"],
            now=row["now"],
            user=actor_user_id,
        )
        granted_at = row["now"]
    else:
        consent_id = row["consent_id"]
        queries.withdraw_consent(
            conn, consent=consent_id, venue=venue_id, now=row["now"], user=actor_user_id
        )
        granted_at = None
    record(
        conn,
        action="customer.consent_granted" if share else "customer.consent_withdrawn",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="customer",
        target_id=diner_id,
        details={
            "consent_id": str(consent_id),
            "before": before,
            "after": {"consent_active": share, "granted_at": _iso(granted_at)},
        },
    )
    return Consent(customer_id=diner_id, consent_active=share, granted_at=granted_at)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def read_history(
    conn: psycopg.Connection, *, venue_id: uuid.UUID, diner_id: uuid.UUID
) -> CustomerHistory:
    row = queries.history(conn, venue_id, diner_id)
    if row is None:
        raise not_found("customer")
    visits = row["visits"]
    if isinstance(visits, str):
        visits = json.loads(visits)
    return CustomerHistory(
        customer_id=row["id"],
        consent_active=row["consent_active"],
        visits=[Visit.model_validate(visit) for visit in visits],
    )
