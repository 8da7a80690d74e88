"""Two processes confirm the same previewed change at once: exactly one applies.

Runs on whichever database the suite uses (PostgreSQL: ``SELECT ... FOR UPDATE``;
SQLite: ``BEGIN IMMEDIATE``), with real separate processes and connections.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from sqlmodel import select

from portal_app.billing import catalog, changes, subscriptions
from portal_app.billing.models import Customer, Price, SubscriptionItem
from portal_app.billing.provider import ItemChange, ItemSpec
from portal_app.clock import FrozenClock
from tests.portal_app.billing.helpers import MakeUow, charges_of, invoices_of

CHILD = """
import json, sys, time
from datetime import datetime
from portal_app.billing import changes
from portal_app.billing.provider import ItemChange
from portal_app.clock import FrozenClock
from portal_app.errors import BillingError
from portal_app.db import UnitOfWork

args = json.loads(sys.argv[1])
uow = UnitOfWork(clock=FrozenClock(datetime.fromisoformat(args["now"])))
while time.time() < args["start"]:
    time.sleep(0.001)
try:
    changes.apply_change(args["sub"], account_id=args["account"], uow=uow,
                         items=[ItemChange(id=args["item"], price=args["price"])],
                         proration_behavior="always_invoice",
                         expected_version=args["version"])
    print("applied")
except BillingError as error:
    print(error.code)
"""


def test_two_processes_confirming_one_preview_apply_exactly_one(
        account_id: str, make_uow: MakeUow, clock: FrozenClock, customer: Customer,
        monthly: Price) -> None:
    business = catalog.create_price(account_id=account_id, uow=make_uow(), currency="usd",
                                    unit_amount=5000, product_name="Business",
                                    interval="month")
    sub = subscriptions.create_subscription(
        account_id=account_id, uow=make_uow(), customer=customer.id,
        items=[ItemSpec(price=monthly.id)])
    now = datetime(2026, 2, 14, 12, tzinfo=UTC)
    clock.set(now)
    with make_uow() as uow:
        item = uow.session.exec(select(SubscriptionItem).where(
            SubscriptionItem.subscription_id == sub.id)).one()
    item_id = item.id
    version = changes.preview_change(sub.id, account_id=account_id, uow=make_uow(),
                                     items=[ItemChange(id=item_id, price=business.id)],
                                     proration_behavior="always_invoice").version
    args = json.dumps({"sub": sub.id, "account": account_id, "item": item_id,
                       "price": business.id, "version": version, "now": now.isoformat(),
                       "start": time.time() + 2.0})
    children = [subprocess.Popen([sys.executable, "-c", CHILD, args], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=dict(os.environ))
                for _ in range(2)]
    outcomes = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        outcomes.append(out.strip())
    assert sorted(outcomes) == ["applied", "subscription_changed"]
    invoices = invoices_of(make_uow, sub.id)
    assert [i.billing_reason for i in invoices] == ["subscription_create",
                                                    "subscription_update"]
    assert [c.amount for c in charges_of(make_uow, invoices[1].id)] == [1500]
