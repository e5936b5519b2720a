"""Admin lists of enterprises and outlets: keyset pages on (name, id), fast at 250k rows."""

import base64
import binascii
import json
from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_
from wtforms import SelectChoice

from complaints.extensions import db
from complaints.geo.models import Division
from complaints.merchants.models import Enterprise, Outlet
from complaints.merchants.uscc import normalise_uscc

PAGE_SIZE = 50


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None = None


def encode_cursor(name: str, row_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([name, row_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        name, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise BadCursor(cursor) from exc
    if not isinstance(name, str) or not isinstance(row_id, int):
        raise BadCursor(cursor)
    return name, row_id


def _search(model, text: str):
    """A code typed whole (USCC or outlet code) finds that row by its unique index; anything
    else is a name containing the text. Never both in one OR: that reads the whole table."""
    code = normalise_uscc(text)
    key = model.uscc if model is Enterprise else model.code
    if db.session.scalar(select(model.id).where(key == code)) is not None:
        return key == code
    pattern = f"%{text}%"
    return or_(model.name_zh.like(pattern), model.name_en.ilike(pattern))


def _page(statement, model, after: str | None, limit: int) -> Page:
    if after:
        name, row_id = decode_cursor(after)
        statement = statement.where(tuple_(model.name_zh, model.id) > tuple_(name, row_id))
    rows = list(db.session.scalars(statement.order_by(model.name_zh, model.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].name_zh, rows[-1].id) if more else None)


def enterprise_page(
    text: str = "",
    division: str = "",
    within: frozenset[str] | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    statement = select(Enterprise)
    if text:
        statement = statement.where(_search(Enterprise, text))
    if division:
        statement = statement.where(Enterprise.division_code == division)
    if within is not None:
        statement = statement.where(Enterprise.division_code.in_(within))
    return _page(statement, Enterprise, after, limit)


def outlet_page(
    text: str = "",
    division: str = "",
    enterprise_id: int | None = None,
    within: frozenset[str] | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    statement = select(Outlet)
    if text:
        statement = statement.where(_search(Outlet, text))
    if division:
        statement = statement.where(Outlet.division_code == division)
    if enterprise_id is not None:
        statement = statement.where(Outlet.enterprise_id == enterprise_id)
    if within is not None:
        statement = statement.where(Outlet.division_code.in_(within))
    return _page(statement, Outlet, after, limit)


def division_choices(
    locale: str, within: frozenset[str] | None = None, *, for_outlets: bool = False
) -> list[SelectChoice]:
    statement = select(Division).order_by(Division.code)
    if for_outlets:  # an outlet is in a city, district or county, never "the province"
        statement = statement.where(Division.parent_code.is_not(None))
    if within is not None:
        statement = statement.where(Division.code.in_(within))
    return [
        SelectChoice(d.code, f"{d.code} {d.name(locale)}") for d in db.session.scalars(statement)
    ]
