"""Evidence the tourist adds after filing, from the tracking page.

Photos, receipts and PDFs, each batch with a note, while the case is still open (until the
decision). Each batch writes one "evidence_added" case event whose reason lists every file's
kind, SHA-256 and name, so the hash chain freezes what was sent: a file swapped on disk or a
row edited later no longer matches its event. Flushes only; the request commits.
"""

from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from complaints.cases.audit import append_event
from complaints.cases.evidence import CleanImage, EvidenceRejected, clean_image, store_file
from complaints.cases.models import Case, Evidence, EvidenceKind
from complaints.extensions import db
from workflows.states import CaseState, Role

# Until the decision: once accepted-and-settled, declined, ended or withdrawn, the record is
# what the decision was made on.
OPEN_FOR_EVIDENCE = frozenset(
    {
        CaseState.SUBMITTED,
        CaseState.MERCHANT_RESPONSE,
        CaseState.REGULATOR_REVIEW,
        CaseState.MEDIATION,
    }
)
MAX_FILES_PER_CASE = 20  # the form's own limit plus what may reasonably follow
PDF_MAGIC = b"%PDF-"
ADDED_TRIGGER = "evidence_added"

TOURIST_KIND_LABELS = {
    EvidenceKind.PHOTO: _l("Photo"),
    EvidenceKind.RECEIPT: _l("Receipt"),
    EvidenceKind.CONTRACT: _l("Contract"),
    EvidenceKind.COMMUNICATION: _l("Communication"),
    EvidenceKind.OTHER: _l("Other"),
}


def can_add_evidence(case: Case) -> bool:
    return case.state in OPEN_FOR_EVIDENCE


def clean_document(raw: bytes, filename: str, max_bytes: int) -> CleanImage:
    """A photo (re-encoded, metadata dropped) or a PDF (kept byte for byte: it is the
    receipt or contract as issued; served as an attachment, never rendered inline)."""
    if not raw.startswith(PDF_MAGIC):
        try:
            return clean_image(raw, filename, max_bytes)
        except EvidenceRejected as exc:
            if len(raw) > max_bytes:
                raise
            raise EvidenceRejected(
                _("%(name)s is not a photo (JPEG, PNG, WebP) or a PDF.", name=filename)
            ) from exc
    if len(raw) > max_bytes:
        raise EvidenceRejected(
            _("%(name)s is larger than %(mb)d MB.", name=filename, mb=max_bytes // 2**20)
        )
    if b"%%EOF" not in raw[-2048:]:
        raise EvidenceRejected(_("%(name)s is not a complete PDF file.", name=filename))
    return CleanImage(raw, "application/pdf", "pdf")


def add_evidence(
    case: Case,
    files,
    *,
    kind: EvidenceKind,
    note: str,
    upload_dir: str,
    max_bytes: int,
    now: datetime,
) -> list[Evidence]:
    """Store the files and freeze them into the case's audit chain; raises EvidenceRejected
    (nothing stored) when the case is decided, no file was chosen, or a file is unfit."""
    if not can_add_evidence(case):
        raise EvidenceRejected(_("This case has been decided: evidence can no longer be added."))
    files = [storage for storage in files if storage and storage.filename]
    if not files:
        raise EvidenceRejected(_("Choose a photo or PDF to add."))
    already = db.session.scalar(select(func.count(Evidence.id)).where(Evidence.case_id == case.id))
    if already + len(files) > MAX_FILES_PER_CASE:
        raise EvidenceRejected(_("At most %(n)d files per complaint.", n=MAX_FILES_PER_CASE))
    cleaned = [
        (
            storage.filename[:255],
            clean_document(storage.stream.read(max_bytes + 1), storage.filename, max_bytes),
        )
        for storage in files
    ]
    note = " ".join((note or "").split())[:255]
    items = [
        Evidence(
            case_id=case.id,
            kind=kind,
            note=note,
            original_name=name,
            **store_file(document, upload_dir),
        )
        for name, document in cleaned
    ]
    db.session.add_all(items)
    event = append_event(
        case,
        trigger=ADDED_TRIGGER,
        from_state=case.state,
        to_state=case.state,
        role=Role.TOURIST,
        actor_id=None,
        reason=_audit_reason(items),
        now=now,
    )
    for item in items:
        item.event_id = event.id
    db.session.flush()
    return items


def _audit_reason(items: list[Evidence]) -> str:
    lines = [f"{item.kind.value} sha256:{item.sha256} {item.original_name}" for item in items]
    if items[0].note:
        lines.append(items[0].note)
    return "\n".join(lines)


def discard_files(items: list[Evidence], upload_dir: str) -> None:
    """After a rollback: the rows are gone, so remove their files too."""
    for item in items:
        (Path(upload_dir) / item.stored_name).unlink(missing_ok=True)
