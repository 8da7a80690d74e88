"""``/v1/test_helpers/test_clocks``: create, retrieve, list, advance and delete test clocks."""

from __future__ import annotations

from typing import Any

from portal_app.api.forms import optional_str, required, to_timestamp
from portal_app.api.pagination import PAGE_PARAMS, paginate_request
from portal_app.api.pipeline import ApiRequest, Registry
from portal_app.api.schema import Str, Timestamp
from portal_app.billing import test_clocks
from portal_app.billing.models import TestClock
from portal_app.billing.test_clocks import render_test_clock

endpoint = Registry()

_URL = "/v1/test_helpers/test_clocks"


@endpoint("POST", _URL, params={"frozen_time": Timestamp(), "name": Str(max_length=300)},
          required=("frozen_time",))
def create_test_clock(req: ApiRequest) -> dict[str, Any]:
    p = req.params
    clock = test_clocks.create_test_clock(
        account_id=req.account_id, uow=req.uow, name=optional_str(p, "name"),
        frozen_time=to_timestamp(required(p, "frozen_time"), "frozen_time"))
    return render_test_clock(clock)


@endpoint("GET", _URL + "/{id}")
def retrieve_test_clock(req: ApiRequest) -> dict[str, Any]:
    return render_test_clock(test_clocks.retrieve_test_clock(
        req.id(), account_id=req.account_id, uow=req.uow))


@endpoint("GET", _URL, params=PAGE_PARAMS)
def list_test_clocks(req: ApiRequest) -> dict[str, Any]:
    return paginate_request(req, TestClock, url=_URL, label="test_clock",
                            render=lambda row, _s: render_test_clock(row))


@endpoint("POST", _URL + "/{id}/advance", params={"frozen_time": Timestamp()},
          required=("frozen_time",))
def advance_test_clock(req: ApiRequest) -> dict[str, Any]:
    clock = test_clocks.advance_test_clock(
        req.id(), account_id=req.account_id, uow=req.uow,
        frozen_time=to_timestamp(required(req.params, "frozen_time"), "frozen_time"))
    return render_test_clock(clock)


@endpoint("DELETE", _URL + "/{id}")
def delete_test_clock(req: ApiRequest) -> dict[str, Any]:
    clock = test_clocks.delete_test_clock(req.id(), account_id=req.account_id, uow=req.uow)
    return render_test_clock(clock, deleted=True)
