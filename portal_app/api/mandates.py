"""``/v1/mandates/{id}``: the customer's permission to debit a bank account."""

from __future__ import annotations

from typing import Any

from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.billing import mandates
from portal_app.billing.payment_objects import render_mandate

endpoint = Registry()


@endpoint("GET", "/v1/mandates/{id}")
def retrieve_mandate(req: ApiRequest) -> dict[str, Any]:
    mandate, pm = mandates.retrieve_mandate(req.id(), account_id=req.account_id, uow=req.uow)
    return render_mandate(mandate, method_type=pm.type)
