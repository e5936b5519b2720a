"""Daily exports of the trusted and serious lists and the day's changes, as CSV and JSON, each
with a detached HMAC-SHA256 signature (`<file>.sig`) under CREDIT_EXPORT_KEY, which the
credit platform shares. Written once per local day by the tick, or by `credit-exchange export`.
"""

import csv
import hashlib
import hmac
import io
import json
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import current_app

from complaints.clock import LOCAL_ZONE, local_today
from complaints.credit_exchange import services
from complaints.credit_exchange.models import CreditChange
from complaints.extensions import db

FORMAT_VERSION = 1
CSV_COLUMNS = ("list", "uscc", "name_zh", "name_en", "division_code", "grade", "score", "since")


def export_dir() -> Path:
    folder = Path(current_app.config["CREDIT_EXPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signature(data: bytes) -> str:
    key = current_app.config["CREDIT_EXPORT_KEY"].encode()
    return "hmac-sha256=" + hmac.new(key, data, hashlib.sha256).hexdigest()


def verify(data: bytes, sig: str) -> bool:
    return hmac.compare_digest(signature(data), sig.strip())


def build(day: date) -> dict:
    start = datetime.combine(day, time.min, tzinfo=LOCAL_ZONE)
    end = start + timedelta(days=1)
    changes = db.session.scalars(
        db.select(CreditChange)
        .where(CreditChange.changed_at >= start, CreditChange.changed_at < end)
        .order_by(CreditChange.id)
    )
    return {
        "format": "anxin-credit-lists",
        "version": FORMAT_VERSION,
        "date": day.isoformat(),
        "generated_at": datetime.now(LOCAL_ZONE).isoformat(),
        "serious": [services.list_entry(e, s, True) for e, s in services.serious_list()],
        "trusted": [services.list_entry(e, s, False) for e, s in services.trusted_list()],
        "changes": [services.change_entry(c) for c in changes],
    }


def _csv(document: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name in ("serious", "trusted"):
        for entry in document[name]:
            writer.writerow(
                [name, *(entry[c] if entry[c] is not None else "" for c in CSV_COLUMNS[1:])]
            )
    return out.getvalue().encode("utf-8")


def write_export(day: date) -> list[Path]:
    document = build(day)
    folder = export_dir()
    payloads = {
        f"credit-{day:%Y%m%d}.json": json.dumps(
            document, ensure_ascii=False, indent=1, default=str
        ).encode("utf-8"),
        f"credit-{day:%Y%m%d}.csv": _csv(document),
    }
    written = []
    for name, data in payloads.items():
        for path, content in (
            (folder / name, data),
            (folder / f"{name}.sig", signature(data).encode()),
        ):
            partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            partial.write_bytes(content)
            os.replace(partial, path)  # readers never see half a file
            written.append(path)
    return written


def export_if_due(now: datetime) -> int:
    """Yesterday's (local) export, once: the tick calls this every minute."""
    day = local_today(now) - timedelta(days=1)
    if (export_dir() / f"credit-{day:%Y%m%d}.json.sig").exists():
        return 0
    write_export(day)
    return 1
