"""Stripe's cursor pagination, once for every list endpoint.

Objects come newest first (``created`` descending, ``id`` descending to break
ties, which a frozen test clock makes common). ``starting_after`` pages towards
older objects, ``ending_before`` towards newer ones; ``has_more`` says whether
more exist in the direction of travel.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, SQLModel, col, select

from portal_app.api.forms import to_int, to_str
from portal_app.api.pipeline import ApiRequest
from portal_app.api.schema import Id, Int, Spec
from portal_app.db import UnitOfWork
from portal_app.errors import InvalidRequest, ResourceMissing
from portal_app.stripe_shapes import list_object

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# The parameters every list takes (``expand`` comes with every endpoint).
PAGE_PARAMS: dict[str, Spec] = {
    "limit": Int(minimum=1, maximum=MAX_LIMIT,
                 description=f"How many objects to return, 1 to {MAX_LIMIT}."),
    "starting_after": Id(description="A cursor: the page after this object."),
    "ending_before": Id(description="A cursor: the page before this object."),
}


@dataclass(frozen=True)
class PageRequest:
    """The pagination parameters of one list request."""

    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None
    ending_before: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PageRequest:
        """Read ``limit``, ``starting_after``, ``ending_before``. Raises InvalidRequest."""
        limit = DEFAULT_LIMIT
        if params.get("limit") not in (None, ""):
            limit = to_int(params["limit"], "limit")
            if not 1 <= limit <= MAX_LIMIT:
                raise InvalidRequest(
                    f"This value must be greater than or equal to 1 and less than or equal "
                    f"to {MAX_LIMIT}.", param="limit")
        after = params.get("starting_after") or None
        before = params.get("ending_before") or None
        if after and before:
            raise InvalidRequest("You may only specify one of these parameters: "
                                 "ending_before, starting_after.", param="ending_before")
        return cls(limit=limit,
                   starting_after=to_str(after, "starting_after") if after else None,
                   ending_before=to_str(before, "ending_before") if before else None)


@dataclass(frozen=True)
class In:
    """A filter value: the column is one of ``values``."""

    values: Collection[Any]


@dataclass(frozen=True)
class NotIn:
    """A filter value: the column is none of ``values``."""

    values: Collection[Any]


@dataclass(frozen=True)
class AnyCase:
    """A filter value: the column equals ``value`` in any case (Stripe's promotion ``code``)."""

    value: str


def paginate(
    model: type[SQLModel],
    *,
    uow: UnitOfWork,
    page: PageRequest,
    url: str,
    render: Callable[[Any, Session], dict[str, Any]],
    account_id: str | None,
    filters: Mapping[str, Any] | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """One page of ``model`` rows as Stripe's list object.

    ``filters`` maps a column name to a value (equality), an :class:`In`, a
    :class:`NotIn` or an :class:`AnyCase`; ``None`` values are skipped. ``account_id``
    scopes the rows (``None`` when the filters already do, for tables without the column).
    Raises ResourceMissing when a cursor is not an object of this list.
    """
    created, ident = col(model.created), col(model.id)  # type: ignore[attr-defined]
    conditions = []
    if account_id is not None:
        conditions.append(col(model.account_id) == account_id)  # type: ignore[attr-defined]
    for name, value in (filters or {}).items():
        column = col(getattr(model, name))
        if value is None:
            continue
        if isinstance(value, In):
            conditions.append(column.in_(list(value.values)))
        elif isinstance(value, NotIn):
            conditions.append(column.not_in(list(value.values)))
        elif isinstance(value, AnyCase):
            conditions.append(func.lower(column) == value.value.lower())
        else:
            conditions.append(column == value)
    with uow:
        query = select(model).where(*conditions)
        cursor_id = page.starting_after or page.ending_before
        if cursor_id:
            param = "starting_after" if page.starting_after else "ending_before"
            cursor = uow.session.exec(select(model).where(ident == cursor_id, *conditions)
                                      ).first()
            if cursor is None:
                name = label or model.__name__.lower()
                raise ResourceMissing(f"No such {name}: '{cursor_id}'", param=param)
            c_created, c_id = cursor.created, cursor.id  # type: ignore[attr-defined]
            if page.starting_after:
                query = query.where(or_(created < c_created,
                                        and_(created == c_created, ident < c_id)))
            else:
                query = query.where(or_(created > c_created,
                                        and_(created == c_created, ident > c_id)))
        if page.ending_before:
            query = query.order_by(created.asc(), ident.asc())
        else:
            query = query.order_by(created.desc(), ident.desc())
        rows = list(uow.session.exec(query.limit(page.limit + 1)).all())
        has_more = len(rows) > page.limit
        rows = rows[: page.limit]
        if page.ending_before:
            rows.reverse()
        data = [render(row, uow.session) for row in rows]
    return list_object(data, url=url, has_more=has_more)


def paginate_request(req: ApiRequest, model: type[SQLModel], *, url: str,
                     render: Callable[[Any, Session], dict[str, Any]],
                     filters: Mapping[str, Any] | None = None, label: str | None = None
                     ) -> dict[str, Any]:
    """:func:`paginate` over the request's account, with its page parameters.

    Raises InvalidRequest, ResourceMissing.
    """
    return paginate(model, uow=req.uow, page=PageRequest.from_params(req.params), url=url,
                    render=render, account_id=req.account_id, filters=filters, label=label)


def paginate_list(objects: list[dict[str, Any]], *, page: PageRequest, url: str, label: str
                  ) -> dict[str, Any]:
    """One page of an already ordered list of computed objects, by id cursors.

    Raises ResourceMissing when a cursor is not an object of the list.
    """
    ids = [obj["id"] for obj in objects]
    cursor = page.starting_after or page.ending_before
    if cursor is not None and cursor not in ids:
        raise ResourceMissing(f"No such {label}: '{cursor}'",
                              param="starting_after" if page.starting_after else
                              "ending_before")
    if page.starting_after:
        rest = objects[ids.index(page.starting_after) + 1:]
        return list_object(rest[:page.limit], url=url, has_more=len(rest) > page.limit)
    if page.ending_before:
        before = objects[:ids.index(page.ending_before)]
        return list_object(before[-page.limit:], url=url, has_more=len(before) > page.limit)
    return list_object(objects[:page.limit], url=url, has_more=len(objects) > page.limit)
