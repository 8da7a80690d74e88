"""The invariants ``bench/crash.py`` checks after every restart, in plain SQL on PostgreSQL.

Each check reads one consistent snapshot (a REPEATABLE READ, read-only transaction),
so it may run while the restarted server and workers already write again. A check
returns its violations as readable lines; an empty list is a pass.

- ``events``: no change without its event. For every subscription, invoice and
  cancellation flow, the newest event about it (by ``seq``) carries a snapshot that
  matches the row as it is: status, money, periods, cancellation, items, discounts,
  schedule; and every subscription and invoice has at least one event.
- ``invoice_totals``: ``subtotal`` is the sum of the lines, ``total_discount`` the sum
  of their discounts, ``total = subtotal - total_discount``; an open or paid invoice
  owes ``max(total + starting_balance, 0)``, split into paid and remaining.
- ``charges``: no charge twice. At most one succeeded charge per invoice, for the
  amount paid; a paid invoice with something to collect has exactly one; no
  succeeded charge on an unpaid invoice; no more charges than attempts; one paid
  invoice per subscription period (creation and renewals); invoice numbers unique.
- ``flows``: no cancel flow half-applied. An accepted flow has its outcome, its
  ``offer_accepted`` event and the billing change of its offer (an event naming the
  flow, a discount of the offer's coupon, the pause); a completed flow has its
  ``completed`` event and the cancellation naming it; and vice versa, every billing
  change naming a flow belongs to an accepted or completed flow, every retention
  coupon's discount to an accepted coupon flow, every pause to an accepted pause flow.
- ``counters``: a coupon's ``times_redeemed`` is the number of its discounts.
- ``idempotency``: a request retried with its ``Idempotency-Key`` after a crash was
  applied once: the events naming a key all come from one request.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

Rows = list[dict[str, Any]]


def _rows(conn: Connection, sql: str, **params: Any) -> Rows:
    return [dict(row._mapping) for row in conn.execute(text(sql), params)]


def _unix(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# --- events: the newest snapshot of every object matches the object ---------------------


def _latest_snapshots(conn: Connection, account_id: str, prefix: str) -> dict[str, Any]:
    rows = _rows(conn, """
        SELECT DISTINCT ON (object_id) object_id, data_object
        FROM event WHERE account_id = :account AND type LIKE :prefix
        ORDER BY object_id, seq DESC""", account=account_id, prefix=prefix + "%")
    return {row["object_id"]: _json(row["data_object"]) for row in rows}


def _differences(expected: dict[str, Any], snapshot: dict[str, Any]) -> list[str]:
    return [f"{key}: row {value!r}, event {snapshot.get(key)!r}"
            for key, value in expected.items() if snapshot.get(key) != value]


def _subscription_state(conn: Connection, account_id: str) -> dict[str, dict[str, Any]]:
    """What each subscription's snapshot must say, from its row and its children."""
    items: dict[str, list[list[Any]]] = defaultdict(list)
    for row in _rows(conn, """
            SELECT i.subscription_id, i.id, i.price_id, i.quantity
            FROM subscription_item i JOIN subscription s ON s.id = i.subscription_id
            WHERE s.account_id = :account ORDER BY i.subscription_id, i.position, i.id""",
                     account=account_id):
        items[row["subscription_id"]].append([row["id"], row["price_id"], row["quantity"]])
    discounts: dict[str, list[list[Any]]] = defaultdict(list)
    for row in _rows(conn, """SELECT subscription_id, id, "end" FROM discount
                              WHERE account_id = :account AND subscription_id IS NOT NULL""",
                     account=account_id):
        discounts[row["subscription_id"]].append([row["id"], _unix(row["end"])])
    schedules = {row["subscription_id"]: row["id"] for row in _rows(conn, """
        SELECT subscription_id, id FROM subscription_schedule
        WHERE account_id = :account AND status IN ('not_started', 'active')""",
                                                                    account=account_id)}
    state = {}
    for s in _rows(conn, "SELECT * FROM subscription WHERE account_id = :account",
                   account=account_id):
        pause = _json(s["pause_collection"])
        state[s["id"]] = {
            "status": s["status"],
            "cancel_at_period_end": s["cancel_at_period_end"],
            "cancel_at": _unix(s["cancel_at"]),
            "canceled_at": _unix(s["canceled_at"]),
            "ended_at": _unix(s["ended_at"]),
            "trial_end": _unix(s["trial_end"]),
            "current_period": [_unix(s["current_period_start"]), _unix(s["current_period_end"])],
            "latest_invoice": s["latest_invoice"],
            "pause_collection": ([pause.get("behavior"), pause.get("resumes_at")]
                                 if pause else None),
            "cancellation_details": {k: _json(s["cancellation_details"]).get(k)
                                     for k in ("comment", "feedback", "reason")},
            "items": items[s["id"]],
            "discounts": sorted(discounts[s["id"]]),
            "schedule": schedules.get(s["id"]),
        }
    return state


def _subscription_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The same fields, read from a ``customer.subscription.*`` event's object."""
    items = snapshot["items"]["data"]
    pause = snapshot.get("pause_collection")
    details = snapshot.get("cancellation_details") or {}
    return {
        "status": snapshot["status"],
        "cancel_at_period_end": snapshot["cancel_at_period_end"],
        "cancel_at": snapshot["cancel_at"],
        "canceled_at": snapshot["canceled_at"],
        "ended_at": snapshot["ended_at"],
        "trial_end": snapshot["trial_end"],
        "current_period": ([items[0]["current_period_start"], items[0]["current_period_end"]]
                           if items else None),
        "latest_invoice": snapshot["latest_invoice"],
        "pause_collection": [pause.get("behavior"), pause.get("resumes_at")] if pause else None,
        "cancellation_details": {k: details.get(k) for k in ("comment", "feedback", "reason")},
        "items": [[i["id"], i["price"]["id"], i["quantity"]] for i in items],
        # Expanded in the event store; a discount deleted since stays an id.
        "discounts": sorted([d["id"], d.get("end")] if isinstance(d, dict) else [d, None]
                            for d in snapshot.get("discounts") or []),
        "schedule": snapshot.get("schedule"),
    }


def _invoice_state(conn: Connection, account_id: str) -> dict[str, dict[str, Any]]:
    lines: dict[str, list[list[Any]]] = defaultdict(list)
    for row in _rows(conn, """
            SELECT l.invoice_id, l.id, l.amount FROM invoice_line l
            JOIN invoice i ON i.id = l.invoice_id WHERE i.account_id = :account
            ORDER BY l.invoice_id, l.position""", account=account_id):
        lines[row["invoice_id"]].append([row["id"], row["amount"]])
    fields = ("status", "number", "subtotal", "total", "amount_due", "amount_paid",
              "amount_remaining", "attempt_count", "starting_balance")
    return {inv["id"]: {**{k: inv[k] for k in fields}, "lines": lines[inv["id"]]}
            for inv in _rows(conn, "SELECT * FROM invoice WHERE account_id = :account",
                             account=account_id)}


def _invoice_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {**snapshot, "lines": [[ln["id"], ln["amount"]] for ln in snapshot["lines"]["data"]]}


def _flow_state(conn: Connection, account_id: str) -> dict[str, dict[str, Any]]:
    state = {}
    for flow in _rows(conn, "SELECT * FROM cancellation_flow WHERE account_id = :account",
                      account=account_id):
        expected = {"status": flow["status"],
                    "offer": ({"id": flow["offer_id"], "type": flow["offer_type"]}
                              if flow["offer_id"] else None)}
        if flow["status"] in ("offer_accepted", "completed"):
            # A flow's events are its steps; the answers of an open flow may change
            # without one (no offer to show, or answered again) and are recorded by
            # the step that decides it.
            expected.update(reason=flow["reason"], comment=flow["comment"])
        state[flow["id"]] = expected
    return state


def check_events(conn: Connection, account_id: str) -> list[str]:
    """Every subscription, invoice and flow matches its newest event's snapshot."""
    out = []
    for prefix, state, read in (
            ("customer.subscription.", _subscription_state, _subscription_snapshot),
            ("invoice.", _invoice_state, _invoice_snapshot),
            ("portico.cancellation_flow.", _flow_state, lambda snapshot: snapshot)):
        snapshots = _latest_snapshots(conn, account_id, prefix)
        for object_id, expected in state(conn, account_id).items():
            if object_id not in snapshots:
                out.append(f"{object_id}: no {prefix}* event")
                continue
            diffs = _differences(expected, read(snapshots[object_id]))
            if diffs:
                out.append(f"{object_id} differs from its newest event: {'; '.join(diffs)}")
    return out


# --- invoice totals ----------------------------------------------------------------------


def check_invoice_totals(conn: Connection, account_id: str) -> list[str]:
    """Totals are the sums of the lines; what is owed is the total net of the balance."""
    rows = _rows(conn, """
        SELECT i.id, i.status, i.subtotal, i.total_discount, i.total, i.amount_due,
               i.amount_paid, i.amount_remaining, i.starting_balance,
               COALESCE(SUM(l.amount), 0) AS lines, COALESCE(SUM(l.discount_amount), 0) AS off,
               COUNT(l.id) AS n
        FROM invoice i LEFT JOIN invoice_line l ON l.invoice_id = i.id
        WHERE i.account_id = :account GROUP BY i.id""", account=account_id)
    out = []
    for r in rows:
        problems = []
        if r["n"] == 0:
            problems.append("no lines")
        if r["subtotal"] != r["lines"]:
            problems.append(f"subtotal {r['subtotal']} != lines {r['lines']}")
        if r["total_discount"] != r["off"]:
            problems.append(f"total_discount {r['total_discount']} != line discounts {r['off']}")
        if r["total"] != r["subtotal"] - r["total_discount"]:
            problems.append(f"total {r['total']} != subtotal - discount")
        if r["status"] in ("open", "paid"):
            owed = max(r["total"] + r["starting_balance"], 0)
            if r["amount_due"] != owed:
                problems.append(f"amount_due {r['amount_due']} != max(total + starting "
                                f"balance, 0) = {owed}")
            if r["amount_paid"] + r["amount_remaining"] != r["amount_due"]:
                problems.append("amount_paid + amount_remaining != amount_due")
        if r["status"] == "paid" and r["amount_remaining"] != 0:
            problems.append(f"paid with {r['amount_remaining']} remaining")
        if problems:
            out.append(f"{r['id']} ({r['status']}): {', '.join(problems)}")
    return out


# --- charges -----------------------------------------------------------------------------


def check_charges(conn: Connection, account_id: str) -> list[str]:
    """No invoice is charged twice, no period billed twice, no invoice number reused."""
    out = []
    for r in _rows(conn, """
            SELECT i.id, i.status, i.amount_paid, i.attempt_count, i.collection_method,
                   COUNT(c.id) FILTER (WHERE c.status = 'succeeded') AS ok,
                   COALESCE(SUM(c.amount) FILTER (WHERE c.status = 'succeeded'), 0) AS ok_amount,
                   COUNT(c.id) AS charges
            FROM invoice i LEFT JOIN charge c ON c.invoice_id = i.id
            WHERE i.account_id = :account GROUP BY i.id""", account=account_id):
        if r["ok"] > 1:
            out.append(f"{r['id']}: charged {r['ok']} times")
        elif r["ok"] == 1 and (r["status"] != "paid" or r["ok_amount"] != r["amount_paid"]):
            out.append(f"{r['id']} ({r['status']}, paid {r['amount_paid']}): a succeeded "
                       f"charge of {r['ok_amount']}")
        elif (r["ok"] == 0 and r["status"] == "paid" and r["amount_paid"] > 0
              and r["collection_method"] == "charge_automatically"):
            out.append(f"{r['id']}: paid {r['amount_paid']} without a succeeded charge")
        if r["charges"] > r["attempt_count"]:
            out.append(f"{r['id']}: {r['charges']} charges for {r['attempt_count']} attempts")
    for r in _rows(conn, """
            SELECT subscription_id, period_start, COUNT(*) AS n FROM invoice
            WHERE account_id = :account AND status = 'paid'
              AND billing_reason IN ('subscription_create', 'subscription_cycle')
            GROUP BY subscription_id, period_start HAVING COUNT(*) > 1""", account=account_id):
        out.append(f"{r['subscription_id']}: {r['n']} paid invoices for the period starting "
                   f"{r['period_start']:%Y-%m-%d %H:%M:%S}")
    for r in _rows(conn, """
            SELECT number, COUNT(*) AS n FROM invoice
            WHERE account_id = :account AND number IS NOT NULL
            GROUP BY number HAVING COUNT(*) > 1""", account=account_id):
        out.append(f"invoice number {r['number']} used {r['n']} times")
    return out


# --- cancel flows ------------------------------------------------------------------------


def check_flows(conn: Connection, account_id: str) -> list[str]:
    """No flow half-applied: accepted ⇔ offer applied, completed ⇔ cancellation made."""
    out = []
    steps: dict[str, set[str]] = defaultdict(set)
    for r in _rows(conn, """SELECT object_id, type FROM event WHERE account_id = :account
                            AND type LIKE 'portico.cancellation_flow.%'""", account=account_id):
        steps[r["object_id"]].add(r["type"].rsplit(".", 1)[1])
    # Billing changes made inside a flow's step name it in their origin.
    named: dict[str, Counter[str]] = defaultdict(Counter)
    for r in _rows(conn, """
            SELECT origin->>'cancellation_flow' AS flow, type FROM event
            WHERE account_id = :account AND type NOT LIKE 'portico.%'
              AND origin->>'cancellation_flow' IS NOT NULL""", account=account_id):
        named[r["flow"]][r["type"]] += 1
    flows = _rows(conn, """
        SELECT f.*, o.coupon_id FROM cancellation_flow f
        LEFT JOIN retention_offer o ON o.id = f.offer_id WHERE f.account_id = :account""",
                  account=account_id)
    ids = {f["id"] for f in flows}
    for flow_id in named:
        if flow_id not in ids:
            out.append(f"{flow_id}: billing events name a flow that does not exist")
    discounts = Counter((r["subscription_id"], r["coupon_id"]) for r in _rows(conn, """
        SELECT subscription_id, coupon_id FROM discount WHERE account_id = :account""",
                                                                         account=account_id))
    accepted_coupons: Counter[tuple[str, str]] = Counter()
    paused_by_flow = set()
    for f in flows:
        fid, status = f["id"], f["status"]
        changes = named.get(fid, Counter())
        if status == "offer_accepted":
            missing = [what for what, ok in (
                ("outcome", bool(_json(f["outcome"]))), ("accepted_at", f["accepted_at"]),
                ("offer_accepted event", "offer_accepted" in steps[fid])) if not ok]
            if f["offer_type"] != "contact" and not changes:
                missing.append("the offer's billing change")
            if f["offer_type"] == "coupon":
                accepted_coupons[(f["subscription_id"], f["coupon_id"])] += 1
            if f["offer_type"] == "pause":
                paused_by_flow.add(f["subscription_id"])
            if missing:
                out.append(f"{fid} accepted ({f['offer_type']}) without {', '.join(missing)}")
        elif status == "completed":
            missing = [what for what, ok in (
                ("completed_at", f["completed_at"]),
                ("completed event", "completed" in steps[fid]),
                ("the cancellation", changes["customer.subscription.updated"]
                 + changes["customer.subscription.deleted"] > 0)) if not ok]
            if missing:
                out.append(f"{fid} completed without {', '.join(missing)}")
        else:
            if changes:
                out.append(f"{fid} is {status} but billing changes name it: {dict(changes)}")
            if "offer_accepted" in steps[fid] or "completed" in steps[fid]:
                out.append(f"{fid} is {status} but its events say it was decided")
    offer_coupons = {r["coupon_id"] for r in _rows(conn, """
        SELECT coupon_id FROM retention_offer WHERE account_id = :account
        AND coupon_id IS NOT NULL""", account=account_id)}
    for (sub_id, coupon_id), n in discounts.items():
        if coupon_id in offer_coupons and n != accepted_coupons[(sub_id, coupon_id)]:
            out.append(f"{sub_id}: {n} discount(s) of retention coupon {coupon_id} for "
                       f"{accepted_coupons[(sub_id, coupon_id)]} accepted coupon offer(s)")
    for (sub_id, coupon_id), n in accepted_coupons.items():
        if discounts[(sub_id, coupon_id)] != n:
            out.append(f"{sub_id}: {n} accepted coupon offer(s) of {coupon_id} but "
                       f"{discounts[(sub_id, coupon_id)]} discount(s)")
    for r in _rows(conn, """SELECT id FROM subscription WHERE account_id = :account
                            AND pause_collection IS NOT NULL
                            AND CAST(pause_collection AS TEXT) <> 'null'""", account=account_id):
        if r["id"] not in paused_by_flow:
            out.append(f"{r['id']}: paused without an accepted pause offer")
    return out


# --- counters ----------------------------------------------------------------------------


def check_counters(conn: Connection, account_id: str) -> list[str]:
    """Each coupon's redemption count is the number of discounts it made."""
    return [f"coupon {r['id']}: times_redeemed {r['times_redeemed']} for {r['n']} discount(s)"
            for r in _rows(conn, """
                SELECT c.id, c.times_redeemed, COUNT(d.id) AS n
                FROM coupon c LEFT JOIN discount d
                  ON d.coupon_id = c.id AND d.account_id = c.account_id
                WHERE c.account_id = :account GROUP BY c.account_id, c.id, c.times_redeemed
                HAVING c.times_redeemed <> COUNT(d.id)""", account=account_id)]


# --- idempotency -------------------------------------------------------------------------


def check_idempotency(conn: Connection, account_id: str) -> list[str]:
    """No Idempotency-Key applied twice: its changes all come from one request."""
    return [f"Idempotency-Key {r['idempotency_key']!r} applied by {r['n']} requests"
            for r in _rows(conn, """
                SELECT idempotency_key, COUNT(DISTINCT request_id) AS n FROM event
                WHERE account_id = :account AND idempotency_key IS NOT NULL
                GROUP BY idempotency_key HAVING COUNT(DISTINCT request_id) > 1""",
                           account=account_id)]


CHECKS: dict[str, Callable[[Connection, str], list[str]]] = {
    "events": check_events,
    "invoice_totals": check_invoice_totals,
    "charges": check_charges,
    "flows": check_flows,
    "counters": check_counters,
    "idempotency": check_idempotency,
}


def check_all(engine: Engine, account_id: str) -> dict[str, list[str]]:
    """Every check's violations, all read from one snapshot of the database."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            return {name: check(conn, account_id) for name, check in CHECKS.items()}


def activity(engine: Engine, account_id: str) -> dict[str, int]:
    """Running totals of what the load did, read from the database."""
    with engine.connect() as conn:
        counts = {}
        for name, sql in (
                ("subscriptions", "SELECT COUNT(*) FROM subscription WHERE account_id = :a"),
                ("canceled", "SELECT COUNT(*) FROM subscription WHERE account_id = :a "
                             "AND status = 'canceled'"),
                ("invoices", "SELECT COUNT(*) FROM invoice WHERE account_id = :a"),
                ("renewals", "SELECT COUNT(*) FROM invoice WHERE account_id = :a "
                             "AND billing_reason = 'subscription_cycle'"),
                ("charges", "SELECT COUNT(*) FROM charge WHERE account_id = :a"),
                ("flows", "SELECT COUNT(*) FROM cancellation_flow WHERE account_id = :a"),
                ("flows_accepted", "SELECT COUNT(*) FROM cancellation_flow WHERE account_id = :a "
                                   "AND status = 'offer_accepted'"),
                ("flows_completed", "SELECT COUNT(*) FROM cancellation_flow "
                                    "WHERE account_id = :a AND status = 'completed'"),
                ("events", "SELECT COUNT(*) FROM event WHERE account_id = :a")):
            counts[name] = conn.execute(text(sql), {"a": account_id}).scalar_one()
        return counts


def summarize(violations: dict[str, list[str]]) -> Iterable[str]:
    """One line per violation, prefixed by its check."""
    for name, lines in violations.items():
        for line in lines:
            yield f"[{name}] {line}"
