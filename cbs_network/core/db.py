"""Declarative base, column conventions, and the engine + scoped session every path shares."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy import DateTime, Integer, MetaData, Table, Uuid, create_engine, event
from sqlalchemy.engine import CursorResult, Engine, Result, make_url
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    scoped_session,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. Session.execute types every result as a Result;
    a DML statement's is a CursorResult, which counts them."""
    return cast(CursorResult[Any], result).rowcount


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, uuid.UUID: Uuid}
    if TYPE_CHECKING:
        # Every model here maps one Table (declarative types `__table__` as any FromClause).
        __table__: ClassVar[Table]


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class VersionedMixin:
    """A `version` column that SQLAlchemy checks on every UPDATE (optimistic locking).

    The same number is the record's ETag, so a stale If-Match and a concurrent writer both
    fail instead of silently overwriting each other.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version}


_SQLITE_MATH = [
    ("radians", 1, math.radians),
    ("sin", 1, math.sin),
    ("cos", 1, math.cos),
    ("asin", 1, math.asin),
    ("sqrt", 1, math.sqrt),
    ("power", 2, math.pow),
]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, issue BEGIN so SAVEPOINTs work (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT sin(0)")
    except Exception:  # noqa: BLE001 - SQLite built without its math functions
        for name, arity, function in _SQLITE_MATH:
            dbapi_connection.create_function(name, arity, function, deterministic=True)
    cursor.execute("PRAGMA foreign_keys=ON")
    # A writer waits this long for another's lock before the request gives up with a 503.
    cursor.execute("PRAGMA busy_timeout=10000")
    # Write-ahead log: readers neither wait for the writer nor hold it up (ignored in memory).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _sqlite_begin(connection: Any) -> None:
    """Write requests take SQLite's one write lock when their transaction begins, so concurrent
    writers queue for it (busy_timeout) and then see each other's commits, as on PostgreSQL.

    A plain (deferred) BEGIN reads first and asks for the lock at its first write; when another
    writer holds it or has committed since, SQLite cannot wait without risking a deadlock and
    fails at once ("database is locked"), a 503 where PostgreSQL would answer. Reads, and work
    outside a request, keep the deferred BEGIN: they never block a writer."""
    from flask import has_request_context, request

    immediate = has_request_context() and request.method in WRITE_METHODS
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """The engine and thread-scoped session of one application (tests run several apps)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.engine: Engine = make_engine(url, echo=echo)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.session = scoped_session(self.session_factory)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def init_app(self, app: Any) -> None:
        app.extensions["cbs_db"] = self
        app.teardown_appcontext(lambda _exc: self.session.remove())


def get_db() -> Database:
    from flask import current_app

    return current_app.extensions["cbs_db"]


def session() -> Session:
    """The current application's session for this thread."""
    return get_db().session()
