"""Enterprises from a registry export: upsert by USCC (GB 32100), every change audited."""

from functools import partial

from sqlalchemy import select

from complaints.admin import validators
from complaints.admin.audit import Actor, change_row, changed_fields
from complaints.admin.importing import Counts, Validator, write_batch
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise

# Normalised header -> column. The Chinese names are those of 国家企业信用信息公示系统 exports
# and of the template the admin screen offers.
ALIASES = {
    "uscc": "uscc",
    "统一社会信用代码": "uscc",
    "信用代码": "uscc",
    "name_zh": "name_zh",
    "名称": "name_zh",
    "企业名称": "name_zh",
    "市场主体名称": "name_zh",
    "name_en": "name_en",
    "英文名称": "name_en",
    "division_code": "division_code",
    "行政区划代码": "division_code",
    "区划代码": "division_code",
    "所在地行政区划代码": "division_code",
    "contact_phone": "contact_phone",
    "联系电话": "contact_phone",
    "电话": "contact_phone",
    "contact_email": "contact_email",
    "电子邮箱": "contact_email",
    "邮箱": "contact_email",
    "answers_first": "answers_first",
    "先行处理": "answers_first",
    "是否先行处理": "answers_first",
    "notify_language": "notify_language",
    "通知语言": "notify_language",
    "uscc_override_reason": "uscc_override_reason",
    "代码校验例外理由": "uscc_override_reason",
}
FIELDS = (
    "name_zh",
    "name_en",
    "division_code",
    "contact_phone",
    "contact_email",
    "answers_first",
    "notify_language",
    "uscc_override_reason",
)
DEFAULTS = {
    "name_en": "",
    "contact_phone": None,
    "contact_email": None,
    "answers_first": True,
    "notify_language": "zh",
    "uscc_override_reason": None,
    "uscc_override_by": None,
    "trusted": True,
}


class EnterpriseImport:
    aliases = ALIASES
    required = ("uscc", "name_zh", "division_code")
    subject = "enterprise"

    def __init__(self):
        self.divisions = validators.hainan_division_codes()

    def key_of(self, values: dict) -> str:
        return values["uscc"]

    def validate(self, check: Validator) -> dict:
        reason = check.text("uscc_override_reason", max_length=500)
        values = {
            "uscc": check.cell(
                "uscc", partial(validators.uscc, override_reason=reason), required=True
            ),
            "name_zh": check.text("name_zh", required=True, max_length=128),
            "name_en": check.text("name_en", max_length=160),
            "division_code": check.cell(
                "division_code",
                partial(validators.division_code, known=self.divisions),
                required=True,
            ),
            "contact_phone": check.cell("contact_phone", validators.phone),
            "contact_email": check.cell("contact_email", validators.email),
            "answers_first": check.cell("answers_first", validators.yes_no),
            "notify_language": check.cell("notify_language", validators.language),
            "uscc_override_reason": reason,
        }
        # An empty optional cell means "not given": the default for a new row, kept otherwise.
        return {key: value for key, value in values.items() if value is not None}

    def write_batch(self, rows, actor: Actor, reason: str) -> Counts:
        counts = Counts()
        if not rows:
            return counts
        existing = {
            row.uscc: row._asdict()
            for row in db.session.execute(
                select(
                    Enterprise.id, Enterprise.uscc, *[getattr(Enterprise, f) for f in FIELDS]
                ).where(Enterprise.uscc.in_([values["uscc"] for _, values in rows]))
            )
        }
        now = utcnow()
        inserts, updates, changes = [], [], []
        for _line, values in rows:
            old = existing.get(values["uscc"])
            if values.get("uscc_override_reason"):
                values["uscc_override_by"] = actor.label
            if old is None:
                new = {**DEFAULTS, **values, "created_at": now}
                inserts.append(new)
                changes.append(
                    change_row(
                        actor,
                        self.subject,
                        values["uscc"],
                        "import",
                        before=None,
                        after=_jsonable(new),
                        reason=reason,
                        at=now,
                    )
                )
                continue
            compared = {k: v for k, v in values.items() if k in FIELDS}
            before, after = changed_fields(old, compared)
            if not after:
                counts.unchanged += 1
                continue
            updates.append({"id": old["id"], **after, **_override_by(values)})
            changes.append(
                change_row(
                    actor,
                    self.subject,
                    values["uscc"],
                    "update",
                    before=before,
                    after=after,
                    reason=reason,
                    at=now,
                )
            )
        return write_batch(Enterprise, inserts, updates, changes, counts)


def _override_by(values: dict) -> dict:
    return {"uscc_override_by": values["uscc_override_by"]} if "uscc_override_by" in values else {}


def _jsonable(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in ("created_at", "trusted") and v is not None}
