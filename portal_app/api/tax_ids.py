"""``/v1/customers/{id}/tax_ids``: create, list, retrieve and delete a customer's tax IDs."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import to_str
from portal_app.api.pagination import PAGE_PARAMS, PageRequest, paginate_list
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Str
from portal_app.billing import tax_ids
from portal_app.billing.tax_id_types import TAX_ID_TYPES
from portal_app.billing.tax_ids import render_deleted_tax_id, render_tax_id

endpoint = Registry()

_URL = "/v1/customers/{id}/tax_ids"


@endpoint("POST", _URL, params={"type": Str(enum=tuple(TAX_ID_TYPES)),
                                "value": Str(max_length=64)},
          required=("type", "value"))
def create_tax_id(req: ApiRequest) -> dict[str, Any]:
    tax_id = tax_ids.create_tax_id(
        req.id(), type=to_str(req.params["type"], "type"),
        value=to_str(req.params["value"], "value", max_length=64),
        account_id=req.account_id, uow=req.uow)
    return render_tax_id(tax_id)


@endpoint("GET", _URL, params=PAGE_PARAMS)
def list_tax_ids(req: ApiRequest) -> dict[str, Any]:
    # At most 25 per customer: paged in memory, newest first like every list.
    rows = tax_ids.list_tax_ids(req.id(), account_id=req.account_id, uow=req.uow)
    return paginate_list([render_tax_id(row) for row in rows],
                         page=PageRequest.from_params(req.params),
                         url=f"/v1/customers/{req.id()}/tax_ids", label="tax_id")


@endpoint("GET", _URL + "/{tax_id}")
def retrieve_tax_id(req: ApiRequest) -> dict[str, Any]:
    return render_tax_id(tax_ids.retrieve_tax_id(req.id(), req.id("tax_id"),
                                                 account_id=req.account_id, uow=req.uow))


@endpoint("DELETE", _URL + "/{tax_id}")
def delete_tax_id(req: ApiRequest) -> dict[str, Any]:
    return render_deleted_tax_id(tax_ids.delete_tax_id(req.id(), req.id("tax_id"),
                                                       account_id=req.account_id,
                                                       uow=req.uow))
