"""Outlets from a list: matched by (enterprise USCC, Chinese name), given a code when new."""

from functools import partial

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from complaints.admin import validators
from complaints.admin.audit import Actor, change_row, changed_fields
from complaints.admin.importing import Counts, RowError, Validator, write_batch
from complaints.categories import Category
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise, Outlet
from complaints.merchants.tokens import new_outlet_code
from complaints.merchants.uscc import normalise_uscc

ALIASES = {
    "uscc": "uscc",
    "统一社会信用代码": "uscc",
    "name_zh": "name_zh",
    "名称": "name_zh",
    "门店名称": "name_zh",
    "经营场所名称": "name_zh",
    "name_en": "name_en",
    "英文名称": "name_en",
    "category": "category",
    "类别": "category",
    "行业类别": "category",
    "division_code": "division_code",
    "行政区划代码": "division_code",
    "区划代码": "division_code",
    "address": "address",
    "地址": "address",
    "经营场所": "address",
    "lat": "lat",
    "latitude": "lat",
    "纬度": "lat",
    "long": "long",
    "lng": "long",
    "lon": "long",
    "longitude": "long",
    "经度": "long",
}
CATEGORY_WORDS = {
    "住宿": Category.LODGING,
    "酒店": Category.LODGING,
    "民宿": Category.LODGING,
    "餐饮": Category.CATERING,
    "购物": Category.SHOPPING,
    "景区": Category.ATTRACTIONS,
    "景点": Category.ATTRACTIONS,
    "门票": Category.ATTRACTIONS,
    "交通": Category.TRANSPORT,
    "出租车": Category.TRANSPORT,
    "旅行社": Category.TRAVEL_AGENCY,
    "娱乐": Category.ENTERTAINMENT,
    "其他": Category.OTHER,
    **{category.value: category for category in Category},
}
# Hainan with the Sansha islands: the box a real outlet's coordinates fall in.
LATITUDE = (3.0, 20.5)
LONGITUDE = (107.5, 118.0)
FIELDS = ("name_en", "category", "division_code", "address", "latitude", "longitude")
DEFAULTS = {"name_en": "", "address": "", "latitude": None, "longitude": None}


def category(raw: str) -> Category:
    found = CATEGORY_WORDS.get(raw.strip().lower()) or CATEGORY_WORDS.get(raw.strip())
    if found is None:
        raise validators.CellInvalid(
            _l(
                "%(value)s is not a category; use one of %(choices)s.",
                value=raw,
                choices=", ".join(c.value for c in Category),
            )
        )
    return found


class OutletImport:
    aliases = ALIASES
    required = ("uscc", "name_zh", "category", "division_code")
    subject = "outlet"

    def __init__(self):
        self.divisions = validators.hainan_division_codes()

    def key_of(self, values: dict) -> str:
        return f"{values['uscc']}|{values['name_zh']}"

    def validate(self, check: Validator) -> dict:
        values = {
            "uscc": check.cell("uscc", normalise_uscc, required=True),
            "name_zh": check.text("name_zh", required=True, max_length=128),
            "name_en": check.text("name_en", max_length=160),
            "category": check.cell("category", category, required=True),
            "division_code": check.cell(
                "division_code",
                partial(validators.outlet_division_code, known=self.divisions),
                required=True,
            ),
            "address": check.text("address", max_length=255),
            "latitude": check.cell(
                "lat", partial(validators.coordinate, low=LATITUDE[0], high=LATITUDE[1])
            ),
            "longitude": check.cell(
                "long", partial(validators.coordinate, low=LONGITUDE[0], high=LONGITUDE[1])
            ),
        }
        if (values["latitude"] is None) != (values["longitude"] is None) and not check.errors:
            column = "long" if values["longitude"] is None else "lat"
            check.error(column, _l("Give both latitude and longitude, or neither."))
        return {key: value for key, value in values.items() if value is not None}

    def write_batch(self, rows, actor: Actor, reason: str) -> Counts:
        counts = Counts()
        if not rows:
            return counts
        enterprises = dict(
            db.session.execute(
                select(Enterprise.uscc, Enterprise.id).where(
                    Enterprise.uscc.in_({values["uscc"] for _, values in rows})
                )
            ).all()
        )
        known = []
        for line, values in rows:
            if values["uscc"] in enterprises:
                known.append((line, values, enterprises[values["uscc"]]))
            else:
                counts.rejected.append(
                    RowError(
                        line,
                        "uscc",
                        str(
                            _l(
                                "No enterprise has the code %(uscc)s: import the enterprise first.",
                                uscc=values["uscc"],
                            )
                        ),
                    )
                )
        existing = _existing_outlets({(eid, values["name_zh"]) for _, values, eid in known})
        now = utcnow()
        inserts, updates, changes = [], [], []
        new_rows = [
            (values, eid) for _, values, eid in known if (eid, values["name_zh"]) not in existing
        ]
        codes = fresh_codes(len(new_rows))
        for (values, enterprise_id), code in zip(new_rows, codes, strict=True):
            new = {**DEFAULTS, **_row(values), "enterprise_id": enterprise_id, "code": code}
            inserts.append({**new, "created_at": now, "qr_key_version": 1})
            changes.append(
                change_row(
                    actor,
                    self.subject,
                    code,
                    "import",
                    before=None,
                    after={**_jsonable(new), "uscc": values["uscc"]},
                    reason=reason,
                    at=now,
                )
            )
        for _line, values, enterprise_id in known:
            old = existing.get((enterprise_id, values["name_zh"]))
            if old is None:
                continue
            before, after = changed_fields(_jsonable(old), _jsonable(_row(values)))
            if not after:
                counts.unchanged += 1
                continue
            updates.append({"id": old["id"], **_row(values)})
            changes.append(
                change_row(
                    actor,
                    self.subject,
                    old["code"],
                    "update",
                    before=before,
                    after=after,
                    reason=reason,
                    at=now,
                )
            )
        return write_batch(Outlet, inserts, updates, changes, counts)


def _existing_outlets(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], dict]:
    """Outlets matching (enterprise id, Chinese name) pairs. Two plain IN lists use the
    (enterprise_id, name_zh) index on both databases, where PostgreSQL scans the whole table for
    a row-value IN list; the few extra cross-matches are dropped here."""
    if not pairs:
        return {}
    rows = db.session.execute(
        select(
            Outlet.id,
            Outlet.code,
            Outlet.enterprise_id,
            Outlet.name_zh,
            *[getattr(Outlet, name) for name in FIELDS],
        ).where(
            Outlet.enterprise_id.in_({eid for eid, _ in pairs}),
            Outlet.name_zh.in_({name for _, name in pairs}),
        )
    )
    found = {(row.enterprise_id, row.name_zh): row._asdict() for row in rows}
    return {key: row for key, row in found.items() if key in pairs}


def fresh_codes(count: int) -> list[str]:
    """``count`` new outlet codes, none already taken (32^8 codes: rare clashes, but real at
    200k outlets, so they are checked rather than hoped away)."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {new_outlet_code() for _ in range(count - len(codes))} - codes
        taken = set(db.session.scalars(select(Outlet.code).where(Outlet.code.in_(wanted))))
        codes |= wanted - taken
    return list(codes)


def _row(values: dict) -> dict:
    return {key: value for key, value in values.items() if key != "uscc"}


def _jsonable(values: dict) -> dict:
    out = {}
    for key, value in values.items():
        if key in ("id", "created_at", "enterprise_id", "code", "qr_key_version"):
            continue
        out[key] = value.value if isinstance(value, Category) else value
    return out
