"""Straightforward pure-Python versions of the metrics, to cross-check the Polars ones.

Written from the definitions, month by month and customer by customer, with no
shared code: slow and obvious on purpose.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction


@dataclass(frozen=True)
class Ev:
    created: datetime
    seq: int
    customer: str
    subscription: str
    currency: str
    mrr: int
    type: str = "customer.subscription.updated"
    feedback: str | None = None


def month_of(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def months(events: list[Ev]) -> list[datetime]:
    first = min(month_of(e.created) for e in events)
    last = max(month_of(e.created) for e in events)
    out = [first]
    while out[-1] < last:
        out.append(next_month(out[-1]))
    return out


def subscription_mrr_at(events: list[Ev], before: datetime) -> dict[str, tuple[str, str, int]]:
    """subscription -> (customer, currency, mrr) of its latest event before ``before``."""
    state: dict[str, tuple[int, str, str, int]] = {}
    for e in events:
        if e.created < before and (e.subscription not in state or e.seq > state[e.subscription][0]):
            state[e.subscription] = (e.seq, e.customer, e.currency, e.mrr)
    return {sub: (c, cur, m) for sub, (_, c, cur, m) in state.items()}


def levels(events: list[Ev]) -> dict[datetime, dict[tuple[str, str], int]]:
    """Per month: (customer, currency) -> MRR at the month's end."""
    out = {}
    for month in months(events):
        totals: dict[tuple[str, str], int] = defaultdict(int)
        for customer, currency, mrr in subscription_mrr_at(events, next_month(month)).values():
            totals[(customer, currency)] += mrr
        out[month] = dict(totals)
    return out


def table(events: list[Ev]) -> list[dict]:
    """Rows of period, currency, mrr, customers, subscriptions, movements, counts."""
    currencies = sorted({e.currency for e in events})
    per_month = levels(events)
    rows = []
    previous: dict[tuple[str, str], int] = {}
    paid_before: set[tuple[str, str]] = set()
    for month in months(events):
        current = per_month[month]
        subs = subscription_mrr_at(events, next_month(month))
        for currency in currencies:
            row = {"period": month, "currency": currency, "new": 0, "expansion": 0,
                   "contraction": 0, "churn": 0, "reactivation": 0, "new_customers": 0,
                   "churned_customers": 0, "reactivated_customers": 0}
            keys = {k for k in (*current, *previous) if k[1] == currency}
            for key in keys:
                now, before = current.get(key, 0), previous.get(key, 0)
                if before == 0 and now > 0:
                    if key in paid_before:
                        row["reactivation"] += now
                        row["reactivated_customers"] += 1
                    else:
                        row["new"] += now
                        row["new_customers"] += 1
                elif before > 0 and now == 0:
                    row["churn"] -= before
                    row["churned_customers"] += 1
                elif now > before > 0:
                    row["expansion"] += now - before
                elif before > now > 0:
                    row["contraction"] += now - before
            row["mrr"] = sum(v for k, v in current.items() if k[1] == currency)
            row["mrr_start"] = sum(v for k, v in previous.items() if k[1] == currency)
            row["customers"] = sum(1 for k, v in current.items() if k[1] == currency and v > 0)
            row["customers_start"] = sum(
                1 for k, v in previous.items() if k[1] == currency and v > 0)
            row["subscriptions"] = sum(1 for _, cur, m in subs.values() if cur == currency and m > 0)
            row["net"] = row["mrr"] - row["mrr_start"]
            rows.append(row)
        paid_before |= {k for k, v in current.items() if v > 0}
        previous = current
    return rows


def cohorts(events: list[Ev]) -> list[dict]:
    per_month = levels(events)
    all_months = months(events)
    first: dict[tuple[str, str], datetime] = {}
    for month in all_months:
        for key, value in per_month[month].items():
            if value > 0 and key not in first:
                first[key] = month
    rows = []
    for currency in sorted({k[1] for k in first}):
        for cohort in sorted({m for k, m in first.items() if k[1] == currency}):
            members = [k for k, m in first.items() if m == cohort and k[1] == currency]
            base_customers = base_mrr = None
            for age, month in enumerate(m for m in all_months if m >= cohort):
                values = [per_month[month].get(k, 0) for k in members]
                customers, mrr = sum(1 for v in values if v > 0), sum(values)
                if base_customers is None:
                    base_customers, base_mrr = customers, mrr
                rows.append({"currency": currency, "cohort": cohort, "age": age,
                             "customers": customers, "mrr": mrr,
                             "customer_retention": customers / base_customers,
                             "revenue_retention": mrr / base_mrr if base_mrr else None})
    return rows


def reasons(events: list[Ev]) -> dict[tuple[str, str], tuple[int, int]]:
    """(currency, reason) -> (cancellations, lost MRR) of paid subscriptions that ended."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    ordered = sorted(events, key=lambda e: e.seq)
    last: dict[str, int] = {}
    for e in ordered:
        lost = last.get(e.subscription, 0)
        if e.type == "customer.subscription.deleted" and lost > 0:
            key = (e.currency, e.feedback or "unknown")
            count, total = out.get(key, (0, 0))
            out[key] = (count + 1, total + lost)
        last[e.subscription] = e.mrr
    return out


def subscription_mrr(items: list[tuple[int, int, str, int, str]], *, status: str,
                     percent_off: float | None = None, amount_off: int | None = None) -> int:
    """The contract's MRR of one snapshot: items are (unit_amount, quantity, interval,
    interval_count, usage_type)."""
    if status in {"incomplete", "incomplete_expired", "canceled", "trialing", "paused"}:
        return 0
    per_month = {"month": Fraction(1), "year": Fraction(1, 12), "week": Fraction(52, 12),
                 "day": Fraction(365, 12)}
    total = Fraction(0)
    for amount, quantity, interval, count, usage in items:
        if usage != "metered":
            total += Fraction(amount * quantity) * per_month[interval] / count
    if percent_off is not None:
        total *= 1 - Fraction(round(percent_off * 100), 10_000)
    elif amount_off is not None:
        _, _, interval, count, _ = items[0]
        total = max(Fraction(0), total - amount_off * per_month[interval] / count)
    whole = total.numerator // total.denominator
    return whole + (1 if total - whole >= Fraction(1, 2) else 0)


def deflection(flows: list[dict], ended: list[tuple[str, datetime]], *, window_days: int,
               as_of: datetime) -> dict[tuple[str, str], dict]:
    """(offer, currency) -> shown, accepted, mrr_saved, revenue_saved, saved_churned."""
    out: dict[tuple[str, str], dict] = {}
    for flow in sorted({f["flow"] for f in flows}):
        steps = sorted((f for f in flows if f["flow"] == flow), key=lambda f: f["seq"])
        if not any(f["step"] == "offer_presented" for f in steps):
            continue
        offer = next(f["offer"] for f in steps if f["offer"] is not None)
        currency, mrr = steps[0]["currency"], steps[0]["mrr"]
        row = out.setdefault((offer, currency), {"shown": 0, "accepted": 0, "mrr_saved": 0,
                                                 "revenue_saved": 0, "saved_churned": 0})
        row["shown"] += 1
        accepted = [f["created"] for f in steps if f["step"] == "offer_accepted"]
        if not accepted:
            continue
        at = min(accepted)
        row["accepted"] += 1
        row["mrr_saved"] += mrr
        later = [when for sub, when in ended if sub == steps[0]["subscription"] and when > at]
        churned = min(later) if later else None
        until = min(churned or as_of, as_of)
        seconds = max(0, int((until - at).total_seconds()))
        revenue = Fraction(mrr * seconds * 12, 365 * 86_400)
        whole = revenue.numerator // revenue.denominator
        row["revenue_saved"] += whole + (1 if revenue - whole >= Fraction(1, 2) else 0)
        if churned is not None and (churned - at).total_seconds() <= window_days * 86_400:
            row["saved_churned"] += 1
    return out
