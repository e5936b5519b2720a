"""Staging a merchant's dispute evidence: upload typed items, list them, remove one.

Like a card dispute response, the files are gathered first and submitted once with the
reason (services.submit_dispute); after that they are frozen. Files go through the same
cleaning as a tourist's photos (type checked by content, metadata stripped by re-encoding):
receipts, contracts and chat logs are sent as photos or screenshots.
"""

import hashlib
import secrets
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from complaints.accounts.models import Account
from complaints.cases.evidence import EvidenceRejected, clean_image
from complaints.cases.models import Case, EvidenceKind
from complaints.extensions import db
from complaints.portal.models import DisputeEvidence
from complaints.portal.services import PortalRefused

MAX_STAGED = 12  # a dispute answers one complaint; more files than this is a sign of a mistake


def stage_item(
    case: Case,
    account: Account,
    storage,
    kind: EvidenceKind,
    note: str,
    *,
    upload_dir: str,
    max_bytes: int,
) -> DisputeEvidence:
    """Clean and store one file for the case's pending dispute. Flushes only."""
    if storage is None or not storage.filename:
        raise PortalRefused(_l("Choose a file to add."))
    staged = db.session.scalar(
        select(func.count(DisputeEvidence.id)).where(
            DisputeEvidence.case_id == case.id, DisputeEvidence.submitted_at.is_(None)
        )
    )
    if staged >= MAX_STAGED:
        raise PortalRefused(_l("At most %(n)d files per dispute.", n=MAX_STAGED))
    raw = storage.stream.read(max_bytes + 1)
    try:
        image = clean_image(raw, storage.filename, max_bytes)
    except EvidenceRejected as exc:
        raise PortalRefused(str(exc)) from exc
    digest = hashlib.sha256(image.data).hexdigest()
    twin = db.session.scalar(
        select(DisputeEvidence).where(
            DisputeEvidence.case_id == case.id,
            DisputeEvidence.submitted_at.is_(None),
            DisputeEvidence.sha256 == digest,
        )
    )
    if twin is not None:
        return twin  # the same file twice (a double tap) is one item
    stored_name = f"{secrets.token_hex(16)}.{image.extension}"
    (Path(upload_dir) / stored_name).write_bytes(image.data)
    item = DisputeEvidence(
        case_id=case.id,
        enterprise_id=case.enterprise_id,
        kind=kind,
        note=(note or "").strip()[:255],
        stored_name=stored_name,
        content_type=image.content_type,
        size_bytes=len(image.data),
        sha256=digest,
        original_name=storage.filename[:255],
        uploaded_by=account.id,
    )
    db.session.add(item)
    db.session.flush()
    return item


def remove_item(item: DisputeEvidence, *, upload_dir: str) -> Path:
    """Remove a staged file's row; return the file for the caller to delete after commit.

    A submitted file is part of the record and stays. Deleting the file only once the row is
    gone for good means a crash leaves an orphan file, never a row without its file.
    """
    removed = db.session.execute(
        delete(DisputeEvidence).where(
            DisputeEvidence.id == item.id, DisputeEvidence.submitted_at.is_(None)
        )
    ).rowcount
    if not removed:
        raise PortalRefused(
            _l("This file was submitted with the dispute and can no longer be removed.")
        )
    db.session.expunge(item)
    return Path(upload_dir) / item.stored_name
