"""Declarative base, naming convention and column types shared by every feature."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, MetaData, TypeDecorator, bindparam, literal, update
from sqlalchemy.orm import DeclarativeBase

# Named constraints make SQLite batch migrations and PostgreSQL agree on names.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, also on SQLite, which forgets the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def enum_column_type(enum_cls, name: str):
    """A VARCHAR of the enum's values guarded by a named CHECK constraint, the same on both DBs."""
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_cls) + 8,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def trigram_index(name: str, column: str) -> Index:
    """A pg_trgm GIN index for substring and similarity search on PostgreSQL (the migration
    creates the extension); other databases get a plain index on the column."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


# Indexes on an expression of a PostgreSQL function of our own, which the models cannot declare
# (SQLite has no such function): made by their migration alone, so autogenerate and the drift
# test must not read them as indexes to drop.
DATABASE_ONLY_INDEXES = frozenset({"ix_cases_description_bigrams"})


def include_in_autogenerate(_object, name, type_, reflected, _compare_to) -> bool:
    return not (type_ == "index" and reflected and name in DATABASE_ONLY_INDEXES)


def stamp_once(session, column, row_id: int, now: datetime) -> bool:
    """Set a nullable timestamp `column` on one row only if nobody set it yet (compare-and-set):
    the tick's steps claim each due row this way, so parallel ticks act on it once."""
    model = column.class_
    changed = session.execute(
        update(model).where(model.id == row_id, column.is_(None)).values({column.key: now})
    ).rowcount
    return changed == 1


# Statements built once per process and executed with parameters. Building an INSERT from a
# dict of values costs SQLAlchemy hundreds of coercions each time (a filing's statements cost
# more Python to build than to run); a statement built once costs a dictionary look-up.
BOUND_PREFIX = "new_"


def bound_values(table, columns) -> dict:
    """{column name: bind parameter} for an INSERT built once, plus the table's scalar Python
    defaults written in (a statement built once cannot compute them per execution when it is
    nested in a CTE). Executed with `bound_params(values)`."""
    # Parameter names are not column names: SQLAlchemy takes execution parameters named after
    # columns as SET values of an UPDATE in the same statement.
    values = {name: bindparam(BOUND_PREFIX + name, type_=table.c[name].type) for name in columns}
    for column in table.c:
        if column.name not in values and column.default is not None and column.default.is_scalar:
            values[column.name] = literal(column.default.arg, type_=column.type)
    return values


def bound_params(values: dict) -> dict:
    return {BOUND_PREFIX + name: value for name, value in values.items()}
