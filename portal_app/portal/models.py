"""Portal configurations (``bpc_``) and portal sessions (``bps_``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal_app.dbtypes import json_field, time_field
from portal_app.ids import new_id


class PortalConfiguration(SQLModel, table=True):
    """Stripe's ``billing_portal.configuration``: every field is stored as given."""

    __tablename__ = "portal_configuration"
    __table_args__ = (UniqueConstraint("account_id", "imported_from"),)

    id: str = Field(primary_key=True, default_factory=new_id("bpc"))
    account_id: str = Field(foreign_key="account.id", index=True)
    active: bool = True
    is_default: bool = False
    name: str | None = None
    application: str | None = None
    business_profile: dict[str, Any] = json_field()
    features: dict[str, Any] = json_field()
    login_page: dict[str, Any] = json_field()
    default_return_url: str | None = None
    # Portico's own: origins a session's return_url may point at (empty: any).
    allowed_return_origins: list[str] = json_field(default=list)
    metadata_: dict[str, str] = json_field()
    # Portico's own: the merchant's Stripe configuration (bpc_… in Stripe) this one was
    # imported from (portal.configuration_import), so importing again updates it.
    imported_from: str | None = None
    created: datetime = time_field(index=True)
    updated: datetime = time_field()


class PortalSession(SQLModel, table=True):
    """A short-lived portal link; the table keeps digests, never the token itself."""

    __tablename__ = "portal_session"

    id: str = Field(primary_key=True, default_factory=new_id("bps"))
    account_id: str = Field(foreign_key="account.id", index=True)
    configuration_id: str = Field(foreign_key="portal_configuration.id")
    # A customer of the account's billing: the ledger's or, Stripe-backed, Stripe's (no
    # reference: the provider checks it when the session is created).
    customer_id: str = Field(index=True)
    token_digest: str = Field(unique=True, index=True)
    browser_digest: str | None = Field(default=None, unique=True, index=True)
    return_url: str | None = None
    locale: str | None = None
    on_behalf_of: str | None = None
    flow: dict[str, Any] | None = json_field(default=None)
    created: datetime = time_field()
    opened_at: datetime | None = time_field(nullable=True)
    last_activity_at: datetime | None = time_field(nullable=True)
