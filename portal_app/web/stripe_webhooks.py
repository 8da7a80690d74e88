"""``POST /webhooks/stripe/{account}``: where a Stripe-backed account's Stripe sends its events.

A lean route (not the API pipeline: no key, no form, no idempotency record): verify
the ``Stripe-Signature`` with the account's signing secret, store the event with the
others arriving at the same moment (:class:`~portal_app.events.inbound.GroupCommit`),
answer ``200`` once it is committed, and only then fetch from Stripe what the event
left in doubt. Refusals are JSON in Stripe's error envelope and name no secret: an
unknown account is 404, an account without Stripe billing or a bad signature is 400.
A redelivered event is answered 200 and changes nothing.
"""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal_app.api.pipeline import error_body
from portal_app.db import UnitOfWork, UnitOfWorkFactory
from portal_app.errors import BillingError
from portal_app.events.inbound import GroupCommit, SigningSecrets, Stored, incoming, verify
from portal_app.events.snapshots import refetch_stale
from portal_app.routes import STRIPE_WEBHOOKS

log = logging.getLogger(__name__)

RECEIVED = b'{"received": true}'
DUPLICATE = b'{"received": true, "duplicate": true}'


class StripeWebhooks:
    """The inbound webhook endpoint, on units of work from ``uow_factory``."""

    def __init__(self, uow_factory: UnitOfWorkFactory = UnitOfWork) -> None:
        self.uow_factory = uow_factory
        self.secrets = SigningSecrets(uow_factory)
        self.writer = GroupCommit(uow_factory)

    async def receive(self, request: Request) -> Response:
        """Verify, store, answer; refetch afterwards when the snapshot is in doubt."""
        account_id = request.path_params["account"]
        try:
            secret = self.secrets.cached(account_id)
            if secret is None:
                secret = await run_in_threadpool(self.secrets.get, account_id)
            event = verify(
                await request.body(), request.headers.get("stripe-signature"), secret=secret
            )
            stored = await self.writer.store(incoming(event, account_id=account_id))
        except BillingError as error:
            return Response(
                error_body(error), status_code=error.http_status, media_type="application/json"
            )
        background = BackgroundTask(self.refetch, stored) if stored.stale else None
        return Response(
            DUPLICATE if stored.duplicate else RECEIVED,
            media_type="application/json",
            background=background,
        )

    def refetch(self, stored: Stored) -> None:
        """Fetch the event's object from Stripe (after the answer has been sent)."""
        try:
            refetch_stale(
                stored.account_id, object_ids=[stored.object_id], uow_factory=self.uow_factory
            )
        except BillingError as error:
            # The snapshot stays stale: the next event of that object or a backfill retries.
            log.warning(
                "refetch of %s for %s failed: %s",
                stored.object_id,
                stored.account_id,
                error.message,
            )

    def routes(self) -> list[Route]:
        """The route to mount."""
        return [Route(STRIPE_WEBHOOKS, self.receive, methods=["POST"])]


ROUTES: list = StripeWebhooks().routes()
