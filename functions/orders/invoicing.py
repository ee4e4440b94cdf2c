"""Tax invoices: closing an order issues its invoice; a correction is a credit note. Both are
numbered per venue, per kind and per fiscal year (the venue's calendar year) from a counter
row locked and advanced in the issuing transaction: no gap, no number used twice. An invoice
is never edited (the venue role may not update or delete one)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from orders.models import Invoice, InvoiceRef
from tenancy import JsonDocument, Problem, not_found
from tenancy.audit import record

FISCAL_YEAR = (
    "(SELECT extract(year FROM now() AT TIME ZONE v.timezone)::integer"
    " FROM venues v WHERE v.id = %(venue)s)"
)

ENSURE_COUNTER = f"""
INSERT INTO invoice_counters (venue_id, kind, fiscal_year, last_number)
VALUES (%(venue)s, %(kind)s, {FISCAL_YEAR}, 0)
ON CONFLICT (venue_id, kind, fiscal_year) DO NOTHING
"""
LOCK_COUNTER = f"""
SELECT c.fiscal_year, c.last_number FROM invoice_counters c
WHERE c.venue_id = %(venue)s AND c.kind = %(kind)s AND c.fiscal_year = {FISCAL_YEAR}
FOR UPDATE
"""

# The seller's details as the settings hold them now (the legal name defaults to the
# venue's name), the currency, and the order's lines added up by VAT rate: the item's own,
# else the venue's default. Prices include VAT.
ISSUE_CONTEXT = """
SELECT jsonb_build_object('legal_name', coalesce(s.legal_name, v.name),
                          'vat_number', s.vat_number, 'address', s.tax_address) AS seller,
       trim(v.currency) AS currency,
       now() AS now,
       coalesce(
           (SELECT json_agg(json_build_object('rate_bps', r.rate_bps, 'gross_cents', r.gross)
                            ORDER BY r.rate_bps)
            FROM (SELECT coalesce(mi.vat_rate_bps, s.default_vat_rate_bps, 1000) AS rate_bps,
                         sum(oi.quantity * oi.unit_price_cents)::integer AS gross
                  FROM order_items oi LEFT JOIN menu_items mi ON mi.id = oi.item_id
                  WHERE oi.order_id = %(order)s AND oi.venue_id = %(venue)s
                  GROUP BY 1) r),
           '[]'::json) AS rates
FROM venues v LEFT JOIN venue_settings s ON s.venue_id = v.id
WHERE v.id = %(venue)s
"""

ADVANCE_COUNTER = """
UPDATE invoice_counters SET last_number = %(number)s
WHERE venue_id = %(venue)s AND kind = %(kind)s AND fiscal_year = %(year)s
"""

INSERT_INVOICE = """
INSERT INTO invoices (id, venue_id, kind, fiscal_year, number, order_id, corrects_invoice_id,
                      issued_at, seller, currency, net_cents, vat_cents, gross_cents,
                      vat_lines, reason)
VALUES (%(id)s, %(venue)s, %(kind)s, %(year)s, %(number)s, %(order)s, %(corrects)s, now(),
        %(seller)s, %(currency)s, %(net)s, %(vat)s, %(gross)s, %(lines)s, %(reason)s)
"""

INVOICE_COLUMNS = """
    'id', i.id, 'kind', i.kind, 'fiscal_year', i.fiscal_year, 'number', i.number,
    'order_id', i.order_id, 'corrects_invoice_id', i.corrects_invoice_id,
    'issued_at', i.issued_at, 'seller', i.seller, 'currency', trim(i.currency),
    'net_cents', i.net_cents, 'vat_cents', i.vat_cents, 'gross_cents', i.gross_cents,
    'vat_lines', i.vat_lines, 'reason', i.reason
"""

INVOICE = f"""
SELECT json_build_object({INVOICE_COLUMNS})::text
FROM invoices i WHERE i.venue_id = %(venue)s AND i.id = %(invoice)s
"""

INVOICE_LIST = f"""
SELECT json_build_object('invoices', coalesce(json_agg(q.doc ORDER BY q.issued_at DESC, q.id),
                                              '[]'::json))::text
FROM (
    SELECT json_build_object({INVOICE_COLUMNS}) AS doc, i.issued_at, i.id
    FROM invoices i
    WHERE i.venue_id = %(venue)s
      AND (%(year)s::integer IS NULL OR i.fiscal_year = %(year)s)
      AND (%(kind)s::text IS NULL OR i.kind = %(kind)s)
    ORDER BY i.issued_at DESC, i.id
    LIMIT %(limit)s
) q
"""

# The invoice to correct, and whether a credit note already corrects it.
TO_CREDIT = """
SELECT i.id, i.kind, i.order_id, i.fiscal_year, i.number, i.seller, trim(i.currency) AS currency,
       i.net_cents, i.vat_cents, i.gross_cents, i.vat_lines, now() AS now,
       (SELECT c.id FROM invoices c WHERE c.corrects_invoice_id = i.id) AS credited_by
FROM invoices i WHERE i.venue_id = %(venue)s AND i.id = %(invoice)s
"""


#: Namespace of invoice ids: an invoice is named by its venue, kind, fiscal year and number
#: (unique together), so a number is never reissued under another id.
INVOICE_NAMESPACE = uuid.UUID("6f1d7a52-3c1e-4f0b-9a57-0c3e4b1d2a90")


def invoice_uuid(venue_id: uuid.UUID, kind: str, year: int, number: int) -> uuid.UUID:
    return uuid.uuid5(INVOICE_NAMESPACE, f"{venue_id}:{kind}:{year}:{number}")


def vat_of(gross_cents: int, rate_bps: int) -> int:
    """The VAT included in a gross amount, rounded half away from zero to the cent."""
    denominator = 10_000 + rate_bps
    magnitude = (abs(gross_cents) * rate_bps * 2 + denominator) // (2 * denominator)
    return magnitude if gross_cents >= 0 else -magnitude


def vat_lines(rates: list[dict[str, int]]) -> list[dict[str, int]]:
    lines = []
    for rate in rates:
        vat = vat_of(rate["gross_cents"], rate["rate_bps"])
        lines.append(
            {
                "rate_bps": rate["rate_bps"],
                "net_cents": rate["gross_cents"] - vat,
                "vat_cents": vat,
                "gross_cents": rate["gross_cents"],
            }
        )
    return lines


def queue_issue(
    conn: psycopg.Connection, venue_id: uuid.UUID, order_id: uuid.UUID, kind: str = "invoice"
) -> tuple[psycopg.Cursor[Any], psycopg.Cursor[dict[str, Any]]]:
    """Queued, not awaited: the counter made if missing and locked, then what the invoice
    prints."""
    params = {"venue": venue_id, "kind": kind, "order": order_id}
    conn.execute(ENSURE_COUNTER, params)
    counter = conn.execute(LOCK_COUNTER, params)
    context = conn.cursor(row_factory=dict_row).execute(ISSUE_CONTEXT, params)
    return counter, context


def _write(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    kind: str,
    year: int,
    number: int,
    order_id: uuid.UUID,
    corrects: uuid.UUID | None,
    seller: dict[str, Any],
    currency: str,
    lines: list[dict[str, int]],
    reason: str | None,
) -> uuid.UUID:
    invoice_id = invoice_uuid(venue_id, kind, year, number)
    params = {"venue": venue_id, "kind": kind, "year": year, "number": number}
    conn.execute(ADVANCE_COUNTER, params)
    conn.execute(
        INSERT_INVOICE,
        {
            **params,
            "id": invoice_id,
            "order": order_id,
            "corrects": corrects,
            "seller": Jsonb(seller),
            "currency": currency,
            "net": sum(line["net_cents"] for line in lines),
            "vat": sum(line["vat_cents"] for line in lines),
            "gross": sum(line["gross_cents"] for line in lines),
            "lines": Jsonb(lines),
            "reason": reason,
        },
    )
    return invoice_id


def issue(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    order_id: uuid.UUID,
    queued: tuple[psycopg.Cursor[Any], psycopg.Cursor[dict[str, Any]]],
) -> InvoiceRef:
    """The order's invoice, written unawaited with the rest of the closing transaction."""
    counter_row = queued[0].fetchone()
    context = queued[1].fetchone()
    assert counter_row is not None
    assert context is not None
    year, number = int(counter_row[0]), int(counter_row[1]) + 1
    invoice_id = _write(
        conn,
        venue_id=venue_id,
        kind="invoice",
        year=year,
        number=number,
        order_id=order_id,
        corrects=None,
        seller=context["seller"],
        currency=context["currency"],
        lines=vat_lines(context["rates"]),
        reason=None,
    )
    return InvoiceRef(id=invoice_id, fiscal_year=year, number=number)


def credit(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    invoice_id: uuid.UUID,
    reason: str,
    actor_user_id: uuid.UUID | None,
) -> Invoice:
    """A credit note correcting the invoice in full (once), audited in the same transaction."""
    params = {"venue": venue_id, "invoice": invoice_id, "kind": "credit_note"}
    found_cursor = conn.cursor(row_factory=dict_row).execute(TO_CREDIT, params)
    conn.execute(ENSURE_COUNTER, params)
    counter_cursor = conn.execute(LOCK_COUNTER, params)
    found = found_cursor.fetchone()
    counter_row = counter_cursor.fetchone()
    if found is None:
        raise not_found("invoice")
    if found["kind"] != "invoice":
        raise Problem(409, "not-an-invoice", "a credit note is corrected by no other")
    if found["credited_by"] is not None:
        raise Problem(
            409,
            "already-credited",
            "this invoice already has its credit note",
            credit_note_id=str(found["credited_by"]),
        )
    assert counter_row is not None
    year, number = int(counter_row[0]), int(counter_row[1]) + 1
    lines = [
        {key: -value if key != "rate_bps" else value for key, value in line.items()}
        for line in found["vat_lines"]
    ]
    credit_id = _write(
        conn,
        venue_id=venue_id,
        kind="credit_note",
        year=year,
        number=number,
        order_id=found["order_id"],
        corrects=invoice_id,
        seller=found["seller"],
        currency=found["currency"],
        lines=lines,
        reason=reason,
    )
    record(
        conn,
        action="invoice.credited",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="invoice",
        target_id=invoice_id,
        details={
            "credit_note_id": str(credit_id),
            "invoice": f"{found['fiscal_year']}/{found['number']}",
            "credit_note": f"{year}/{number}",
            "gross_cents": -found["gross_cents"],
            "reason": reason,
        },
    )
    return Invoice.model_validate(
        {
            "id": credit_id,
            "kind": "credit_note",
            "fiscal_year": year,
            "number": number,
            "order_id": found["order_id"],
            "corrects_invoice_id": invoice_id,
            "issued_at": found["now"],
            "seller": found["seller"],
            "currency": found["currency"],
            "net_cents": -found["net_cents"],
            "vat_cents": -found["vat_cents"],
            "gross_cents": -found["gross_cents"],
            "vat_lines": lines,
            "reason": reason,
        }
    )


def invoice_json(
    conn: psycopg.Connection, venue_id: uuid.UUID, invoice_id: uuid.UUID
) -> JsonDocument | None:
    row = conn.execute(INVOICE, {"venue": venue_id, "invoice": invoice_id}).fetchone()
    return None if row is None else JsonDocument(row[0])


def invoice_list_json(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    *,
    year: int | None,
    kind: str | None,
    limit: int,
) -> JsonDocument:
    row = conn.execute(
        INVOICE_LIST, {"venue": venue_id, "year": year, "kind": kind, "limit": limit}
    ).fetchone()
    assert row is not None
    return JsonDocument(row[0])
