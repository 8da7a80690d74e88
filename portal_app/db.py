"""The database engine and the unit of work every service runs in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

import portal_app.models  # noqa: F401  (registers every table, for create_schema)
from portal_app.clock import Clock, utc_now
from portal_app.errors import ResourceMissing
from portal_app.events.models import Event
from portal_app.settings import get_settings
from portal_app.webhooks.outbox import owe_deliveries

T = TypeVar("T", bound=SQLModel)


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    """One engine per database URL (SQLite by default, PostgreSQL by ``DATABASE_URL``)."""
    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa_event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class EventLog:
    """Appends ``evt_`` rows inside the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def append(
        self,
        type: str,
        data_object: dict[str, Any],
        *,
        account_id: str,
        previous_attributes: dict[str, Any] | None = None,
        customer_id: str | None = None,
    ) -> Any:
        """Record that ``data_object`` changed; written only if the change commits.

        ``data_object`` is stored as given: the ledger hands over its snapshots
        already as the event store keeps them (a subscription's discounts expanded).
        """
        if customer_id is None:
            customer_id = customer_of(data_object)
        row = Event(
            account_id=account_id,
            type=type,
            created=self._uow.clock(),
            object_id=data_object["id"],
            customer_id=customer_id,
            data_object=data_object,
            previous_attributes=previous_attributes,
            request_id=self._uow.request_id,
            idempotency_key=self._uow.idempotency_key,
            origin=dict(self._uow.origin) if self._uow.origin else None,
        )
        self._uow.session.add(row)
        # The webhook outbox: deliveries owed to the account's endpoints, written by the
        # flush that writes this event (same transaction; one INSERT for a whole batch).
        owe_deliveries(self._uow.session, row)
        return row


def customer_of(obj: dict[str, Any]) -> str | None:
    """The id of the customer a Stripe-shaped object is (or belongs to), if any."""
    if obj.get("object") == "customer":
        return obj["id"]
    customer = obj.get("customer")
    return customer if isinstance(customer, str) else None


# SQLite has one writer at a time, and its busy handler waits for the write lock
# by sleeping and retrying, which gives long latency tails when several threads
# of one process write at once. One lock per SQLite database serializes this
# process's units of work in arrival order instead (readers included: they are
# short, and the embedded default is a one-process deployment; PostgreSQL is
# the way to scale out). The timeout keeps a unit of work that waits on another
# thread from deadlocking: past it, SQLite's own locking decides as before.
_SQLITE_TURNS: dict[str, threading.RLock] = {}
_SQLITE_TURNS_GUARD = threading.Lock()
SQLITE_TURN_TIMEOUT = 10.0


def _sqlite_turn(engine: Engine) -> threading.RLock | None:
    if engine.dialect.name != "sqlite":
        return None
    key = str(engine.url)
    with _SQLITE_TURNS_GUARD:
        return _SQLITE_TURNS.setdefault(key, threading.RLock())


class UnitOfWork:
    """A transaction: everything in it commits together or not at all.

    ``with uow:`` opens a session; leaving the block without :meth:`commit`
    rolls back, so a failed step never half-applies a change.
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        clock: Clock = utc_now,
        request_id: str | None = None,
        idempotency_key: str | None = None,
        origin: dict[str, Any] | None = None,
    ) -> None:
        self.engine = engine or get_engine()
        self.clock = clock
        self.request_id = request_id
        self.idempotency_key = idempotency_key
        # Where the changes of this unit of work come from (the portal sets its
        # session and configuration); recorded on every event it appends.
        self.origin: dict[str, Any] | None = origin
        self._session: Session | None = None
        self._depth = 0
        self._turn: threading.RLock | None = None
        self.events = EventLog(self)

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `with uow:`")
        return self._session

    def __enter__(self) -> UnitOfWork:
        # Re-entrant: a service called from another service joins its transaction.
        if self._depth == 0:
            turn = _sqlite_turn(self.engine)
            if turn is not None and turn.acquire(timeout=SQLITE_TURN_TIMEOUT):
                self._turn = turn
            self._session = Session(self.engine, expire_on_commit=False)
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            session, self._session = self._session, None
            assert session is not None
            if exc_type is None:
                # A read-only unit of work: keep what it loaded usable after the
                # block (a rollback would expire every row it returns).
                session.expunge_all()
            try:
                if session.in_transaction():
                    session.rollback()
                session.close()
            finally:
                turn, self._turn = self._turn, None
                if turn is not None:
                    turn.release()

    def commit(self) -> None:
        """Commit, unless an outer service owns the transaction (it commits)."""
        if self._depth == 1:
            self.session.commit()
        else:
            self.session.flush()

    def get(self, model: type[T], object_id: str | None, *, account_id: str, param: str = "id",
            label: str | None = None, customer_id: str | None = None) -> T:
        """The ``model`` row with ``object_id`` owned by ``account_id`` (and, given
        ``customer_id``, by that customer).

        Raises ResourceMissing when there is none, or it belongs to another account or
        customer: another's object is missing, exactly like one that does not exist.
        """
        row = (self.session.get(model, row_identity(model, object_id, account_id=account_id))
               if object_id else None)
        if (row is None or getattr(row, "account_id", account_id) != account_id
                or (customer_id is not None
                    and getattr(row, "customer_id", None) != customer_id)):
            name = label or model.__name__.lower()
            raise ResourceMissing(f"No such {name}: '{object_id}'", param=param)
        return row

    def add(self, row: SQLModel) -> None:
        self.session.add(row)

    def flush(self) -> None:
        self.session.flush()

    def lock_for_writing(self) -> None:
        """Serialize this transaction with every other writer before it reads on.

        SQLite has no row locks: take the database write lock now (``BEGIN IMMEDIATE``)
        unless the transaction holds it already, so that two writers in two processes
        never both read before either writes. PostgreSQL: nothing (the caller locks the
        rows it reads with ``SELECT ... FOR UPDATE``).
        """
        conn = self.session.connection()
        if conn.dialect.name == "sqlite":
            raw: Any = conn.connection.dbapi_connection
            if not raw.in_transaction:
                conn.exec_driver_sql("BEGIN IMMEDIATE")


UnitOfWorkFactory = Callable[[], UnitOfWork]


def row_identity(model: type[SQLModel], object_id: str, *, account_id: str) -> Any:
    """What ``Session.get`` takes for ``object_id`` of ``account_id``.

    A table whose ids merchants choose (coupons) is keyed by (account_id, id): the id
    alone names nothing there.
    """
    if len(sa_inspect(model).primary_key) > 1:
        return {"account_id": account_id, "id": object_id}
    return object_id


def create_schema(engine: Engine | None = None) -> None:
    """Create every table directly (tests); deployments migrate with Alembic."""
    SQLModel.metadata.create_all(engine or get_engine())
