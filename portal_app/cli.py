"""``portico``: migrate the database, seed the demo and print how to try it.

    portico migrate                  create or upgrade the schema (Alembic)
    portico seed [--reset] [--with-history]
                                     the demo merchant and a year of history (once);
                                     --with-history adds 24 synthetic months for the dashboard
    portico demo-info [--rotate]     the console login and a fresh portal link; --rotate
                                     issues a new demo key and password (printed once)
    portico advance-clock --to DATE  run the demo's renewals due up to DATE
    portico import-events FILE       load Stripe events (JSON lines) into the event store
    portico stripe-backfill --account acct_…
                                     a Stripe-backed account's history from Stripe's API
                                     (resumable; a progress bar on stderr)
    portico prune-idempotency-keys   delete stored Idempotency-Key responses older than 24 h
    portico webhooks-worker [--once] deliver outbound webhooks until stopped (SIGTERM)
    portico stripe-connect --account acct_… --secret-key sk_… [--webhook-secret whsec_…]
                           [--api-base URL]
                                     bill an account through its Stripe account (the key is
                                     checked with Stripe first)
    portico stripe-disconnect --account acct_…
                                     back to Portico's ledger (the Stripe credentials go)
    portico stripe-import-configurations --account acct_…
                                     copy the Stripe account's portal configurations

Every command works on ``DATABASE_URL`` (SQLite by default) unless given
``--database-url``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from tqdm import tqdm

from portal_app import seed
from portal_app.accounts.billing_settings import (
    BillingSummary,
    connect_verified_stripe,
    disconnect,
)
from portal_app.accounts.stripe_link import bills_through_stripe
from portal_app.api import idempotency
from portal_app.clock import utc_now
from portal_app.db import UnitOfWork, get_engine
from portal_app.errors import BillingError
from portal_app.events.backfill import backfill
from portal_app.events.importer import import_events
from portal_app.events.synthetic_history import has_synthetic_history, import_synthetic_history
from portal_app.migrate import upgrade
from portal_app.portal.configuration_import import (
    ImportedConfigurations,
    import_stripe_configurations,
)
from portal_app.settings import get_settings
from portal_app.webhooks.worker import Worker, run_in_process


def _rows(rows: Sequence[tuple[str, str]], *, indent: int = 2) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{' ' * indent}{label.ljust(width)}  {value}" for label, value in rows)


def _redact_url(url: str) -> str:
    """A database URL without its password, fit to print."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}{':***' if ':' in credentials else ''}@{host}"


def cmd_migrate(args: argparse.Namespace) -> int:
    upgrade(args.database_url)
    print(f"Database is up to date: {_redact_url(args.database_url)}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    result = seed.seed_demo(engine=get_engine(args.database_url), reset=args.reset)
    if result.stripe is not None:
        print(f"{seed.DEMO_BUSINESS} ({result.account_id}) bills through Stripe "
              "(PORTICO_BILLING=stripe): no ledger history is seeded.")
        _print_billing(result.stripe.billing)
        _print_import(result.stripe.imported)
        if result.stripe.created_configuration:
            print(f"Created the portal configuration {result.stripe.created_configuration} "
                  "from the Stripe account's recurring prices.")
        if result.secrets is not None:
            _print_secrets(result.secrets)
        return 0
    engine = get_engine(args.database_url)
    # A Stripe-backed demo's history is its Stripe account's (webhooks and backfill).
    if args.with_history and not bills_through_stripe(result.account_id, uow=UnitOfWork(engine)):
        _seed_history(result.account_id, engine=engine)
    if not result.created:
        print(f"The demo account already exists ({result.account_id}): nothing to do. "
              "Use `portico seed --reset` to rebuild it.")
        return 0
    counts = result.counts
    statuses = ", ".join(f"{counts[key]} {key.split('.', 1)[1].replace('_', ' ')}"
                         for key in counts if key.startswith("subscriptions."))
    print(f"Seeded {seed.DEMO_BUSINESS} ({result.account_id}) in {result.seconds:.1f} s:")
    print(_rows([
        ("customers", str(counts["customers"])),
        ("subscriptions", f"{counts['subscriptions']} ({statuses})"),
        ("invoices", str(counts["invoices"])),
        ("events", str(counts["events"])),
    ]))
    if result.secrets is not None:
        _print_secrets(result.secrets)
    return 0


ROTATE_HINT = "`portico demo-info --rotate` issues a new key and password"


def _print_secrets(demo: seed.DemoSecrets) -> None:
    print("The demo's secrets, shown this once (only their digests are stored):")
    print(_rows([
        ("API secret key", demo.secret_key),
        ("console email", seed.DEMO_EMAIL),
        ("console password", demo.console_password),
    ]))
    print(f"Lost them? {ROTATE_HINT} (and revokes the old key).")


def _seed_history(account_id: str, *, engine: Engine) -> None:
    if has_synthetic_history(account_id, uow=UnitOfWork(engine)):
        return
    result = import_synthetic_history(account_id, uow_factory=lambda: UnitOfWork(engine),
                                      now=utc_now())
    print(f"Imported a synthetic 24-month history for the dashboard: {result.inserted} events.")


def cmd_demo_info(args: argparse.Namespace) -> int:
    fresh = seed.rotate_demo_secrets(engine=get_engine(args.database_url)) if args.rotate else None
    info = seed.demo_info(engine=get_engine(args.database_url))
    minutes = int(info.portal_expires_in.total_seconds() // 60)
    rule = "─" * 72
    print(rule)
    print(f" Portico demo: {seed.DEMO_BUSINESS}")
    print(rule)
    print(_rows([
        ("API secret key", fresh.secret_key if fresh else
         f"{', '.join(info.key_hints) or 'none'} (printed once by `portico seed`)"),
        ("API base", get_settings().public_url),
        ("Merchant console", info.console_url),
        ("  email", info.console_email),
        ("  password", fresh.console_password if fresh else "printed once by `portico seed`"),
        ("Customer portal", info.portal_url or "no link: create a customer in Stripe, then run "
                                               "`portico demo-info` again"),
        ("  customer", info.portal_customer),
        ("  note", f"open it within {minutes} minutes, in one browser; "
                   "`portico demo-info` prints a new one"),
    ], indent=1))
    print(rule)
    print(" The key and password above are shown this once: keep them." if fresh else
          f" Lost the key or password? {ROTATE_HINT} (the old key stops working).")
    return 0


def _date(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def cmd_advance_clock(args: argparse.Namespace) -> int:
    ran = seed.advance_demo_clock(args.to, engine=get_engine(args.database_url))
    print(f"Advanced the demo to {args.to:%Y-%m-%d} (UTC): {ran} renewal(s), trial end(s) "
          "or cancellation(s) ran.")
    return 0


def cmd_import_events(args: argparse.Namespace) -> int:
    engine = get_engine(args.database_url)
    account_id = args.account or seed.find_demo_account(engine=engine)
    if account_id is None:
        print("portico import-events: no --account given and no demo account "
              "(run `portico seed` or pass --account acct_...)", file=sys.stderr)
        return 1
    with (sys.stdin if args.file == "-" else open(args.file, encoding="utf-8")) as lines:
        result = import_events(lines, account_id=account_id, batch_size=args.batch_size,
                               uow_factory=lambda: UnitOfWork(engine))
    print(f"Imported into {account_id}: {result.inserted} new event(s), "
          f"{result.skipped} already stored (skipped).")
    return 0


def cmd_stripe_backfill(args: argparse.Namespace) -> int:
    engine = get_engine(args.database_url)
    bars: dict[str, tqdm] = {}

    def progress(name: str, count: int) -> None:
        if name not in bars:
            bars[name] = tqdm(desc=name, unit=" objects", file=sys.stderr, leave=True)
        bars[name].update(count)

    try:
        result = backfill(args.account, uow_factory=lambda: UnitOfWork(engine),
                          progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    counts = ", ".join(f"{count} {name}" for name, count in result.objects.items())
    print(f"Backfilled {args.account}{' (resumed)' if result.resumed else ''}: {counts}; "
          f"{result.events_inserted} new event(s), {result.events_skipped} already stored, "
          f"{result.synthesized} synthesized, {result.refetched} refetched.")
    return 0


def cmd_prune_idempotency_keys(args: argparse.Namespace) -> int:
    engine = get_engine(args.database_url)
    pruned = 0
    while batch := idempotency.prune_expired(uow=UnitOfWork(engine), limit=args.batch_size):
        pruned += batch
    print(f"Pruned {pruned} expired idempotency record(s) (older than "
          f"{idempotency.KEY_TTL.total_seconds() / 3600:.0f} hours).")
    return 0


def cmd_webhooks_worker(args: argparse.Namespace) -> int:
    worker = Worker(engine=get_engine(args.database_url), batch_size=args.batch_size,
                    max_in_flight=args.max_in_flight, timeout=args.timeout,
                    lease=timedelta(seconds=args.lease_seconds))
    print(f"Delivering webhooks from {_redact_url(args.database_url)}"
          f"{' (until nothing is due)' if args.once else ' (SIGTERM or Ctrl-C stops)'}",
          flush=True)
    stats = run_in_process(worker, once=args.once)
    print(f"Stopped: {stats.succeeded} delivered, {stats.retried} to retry, {stats.failed} "
          f"failed, {stats.endpoints_disabled} endpoint(s) disabled.")
    return 0


def _print_billing(summary: BillingSummary) -> None:
    if not summary.through_stripe:
        print("Billing: Portico's ledger.")
        return
    print(_rows([
        ("Billing", f"Stripe ({summary.key_hint}, {summary.api_base})"),
        ("Inbound webhook URL", f"{summary.webhook_url}  (add it as a webhook endpoint in "
                                "Stripe)"),
        ("Signing secret", "set" if summary.has_webhook_secret else
         "not set: pass --webhook-secret whsec_… (Stripe shows it on the endpoint)"),
    ]))


def _print_import(result: ImportedConfigurations) -> None:
    print(f"Imported {result.total} portal configuration(s) from Stripe: "
          f"{len(result.created)} new, {len(result.updated)} updated, "
          f"{len(result.unchanged)} unchanged"
          + (f"; the default is {result.default}." if result.default else "."))


def cmd_stripe_connect(args: argparse.Namespace) -> int:
    summary = connect_verified_stripe(
        args.account, secret_key=args.secret_key, webhook_secret=args.webhook_secret,
        api_base=args.api_base, uow=UnitOfWork(get_engine(args.database_url)))
    print(f"{args.account} now bills through Stripe; Stripe accepted the key.")
    _print_billing(summary)
    return 0


def cmd_stripe_disconnect(args: argparse.Namespace) -> int:
    _print_billing(disconnect(args.account, uow=UnitOfWork(get_engine(args.database_url))))
    print(f"{args.account} no longer reaches Stripe; its Stripe credentials are erased.")
    return 0


def cmd_stripe_import_configurations(args: argparse.Namespace) -> int:
    _print_import(import_stripe_configurations(
        args.account, uow=UnitOfWork(get_engine(args.database_url))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``portico`` command line."""
    parser = argparse.ArgumentParser(
        prog="portico", description="Portico: self-hosted billing portal, demo and database tools.")
    parser.add_argument("--database-url", default=None,
                        help="SQLAlchemy URL (default: $DATABASE_URL, else ./portico.db)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("migrate", help="create or upgrade the database schema"
                        ).set_defaults(func=cmd_migrate)
    seed_parser = commands.add_parser(
        "seed", help="create the demo merchant with a year of history (once)")
    seed_parser.add_argument("--reset", action="store_true",
                             help="delete the demo account and everything in it, then seed again")
    seed_parser.add_argument("--with-history", action="store_true",
                             help="also import a synthetic 24-month history (about 50,000 "
                                  "events) so the churn dashboard has something to show")
    seed_parser.set_defaults(func=cmd_seed)
    info_parser = commands.add_parser(
        "demo-info", help="print the console login and a fresh portal link")
    info_parser.add_argument("--rotate", action="store_true",
                             help="revoke the demo's API key, issue a new one and set a new "
                                  "console password (both printed once)")
    info_parser.set_defaults(func=cmd_demo_info)
    clock_parser = commands.add_parser(
        "advance-clock", help="run the demo's renewals, trial ends and cancellations up to a date")
    clock_parser.add_argument("--to", type=_date, required=True, metavar="YYYY-MM-DD")
    clock_parser.set_defaults(func=cmd_advance_clock)
    import_parser = commands.add_parser(
        "import-events", help="load Stripe event objects (JSON lines) into the event store")
    import_parser.add_argument("file", metavar="FILE", help="a JSON-lines file, or - for stdin")
    import_parser.add_argument("--account", default=None, metavar="acct_...",
                               help="the merchant account (default: the demo account)")
    import_parser.add_argument("--batch-size", type=int, default=1_000, metavar="N",
                               help="events per transaction (default 1000)")
    import_parser.set_defaults(func=cmd_import_events)
    backfill_parser = commands.add_parser(
        "stripe-backfill", help="build a Stripe-backed account's event store and snapshots from "
                                "Stripe's API (interrupted? run it again: it continues)")
    backfill_parser.add_argument("--account", required=True, metavar="acct_...",
                                 help="the Stripe-backed Portico account")
    backfill_parser.set_defaults(func=cmd_stripe_backfill)
    prune_parser = commands.add_parser(
        "prune-idempotency-keys",
        help="delete stored Idempotency-Key responses older than 24 hours (requests also "
             "prune a few as they go; run this from cron after quiet periods)")
    prune_parser.add_argument("--batch-size", type=int, default=1_000, metavar="N",
                              help="records per transaction (default 1000)")
    prune_parser.set_defaults(func=cmd_prune_idempotency_keys)
    hooks_parser = commands.add_parser(
        "webhooks-worker", help="deliver outbound webhooks (as many processes as you like; the "
                                "served app runs one too unless PORTICO_WEBHOOKS_WORKER=0)")
    hooks_parser.add_argument("--once", action="store_true",
                              help="stop once nothing is due instead of waiting for more")
    hooks_parser.add_argument("--batch-size", type=int, default=200, metavar="N",
                              help="deliveries claimed per transaction (default 200)")
    hooks_parser.add_argument("--max-in-flight", type=int, default=512, metavar="N",
                              help="deliveries sent at once (default 512)")
    hooks_parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                              help="per POST, response included (default 10, Stripe's)")
    hooks_parser.add_argument("--lease-seconds", type=float, default=120.0, metavar="SECONDS",
                              help="how long a claim lasts: a killed worker's deliveries are "
                                   "retried after it (default 120)")
    hooks_parser.set_defaults(func=cmd_webhooks_worker)
    connect_parser = commands.add_parser(
        "stripe-connect", help="bill an account through its own Stripe account (Portico keeps "
                               "its portal, offers and analytics)")
    connect_parser.add_argument("--account", required=True, metavar="acct_...")
    connect_parser.add_argument("--secret-key", required=True, metavar="sk_...",
                                help="the Stripe account's secret (or restricted) key; sealed "
                                     "at rest")
    connect_parser.add_argument("--webhook-secret", default=None, metavar="whsec_...",
                                help="the signing secret of the Stripe webhook endpoint that "
                                     "sends to Portico")
    connect_parser.add_argument("--api-base", default=None, metavar="URL",
                                help="a Stripe-compatible API instead of https://api.stripe.com "
                                     "(tests, fakes)")
    connect_parser.set_defaults(func=cmd_stripe_connect)
    disconnect_parser = commands.add_parser(
        "stripe-disconnect", help="bill an account on Portico's ledger again")
    disconnect_parser.add_argument("--account", required=True, metavar="acct_...")
    disconnect_parser.set_defaults(func=cmd_stripe_disconnect)
    import_configs_parser = commands.add_parser(
        "stripe-import-configurations",
        help="copy a Stripe-backed account's portal configurations from Stripe (again: "
             "updates them)")
    import_configs_parser.add_argument("--account", required=True, metavar="acct_...")
    import_configs_parser.set_defaults(func=cmd_stripe_import_configurations)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``portico`` script."""
    args = build_parser().parse_args(argv)
    args.database_url = args.database_url or get_settings().database_url
    try:
        return args.func(args)
    except BillingError as error:
        print(f"portico {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
