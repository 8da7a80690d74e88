"""``/v1/payment_intents/{id}``: an invoice's payment, retrieved or confirmed (3-D Secure).

Only the intents that collect invoices exist (see :mod:`portal_app.billing.payment_intents`).
"""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import optional_str
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Bool, Id, Str
from portal_app.billing import payment_intents

endpoint = Registry()


@endpoint("GET", "/v1/payment_intents/{id}")
def retrieve_payment_intent(req: ApiRequest) -> dict[str, Any]:
    invoice = payment_intents.invoice_of(req.id(), account_id=req.account_id, uow=req.uow)
    return payment_intents.render_payment_intent(invoice, uow=req.uow)


@endpoint("POST", "/v1/payment_intents/{id}/confirm",
          params={"payment_method": Id(), "return_url": Str(max_length=2048),
                  "off_session": Bool()})
def confirm_payment_intent(req: ApiRequest) -> dict[str, Any]:
    return payment_intents.confirm_payment_intent(
        req.id(), account_id=req.account_id, uow=req.uow,
        payment_method=optional_str(req.params, "payment_method") or None,
        return_url=optional_str(req.params, "return_url") or None)
