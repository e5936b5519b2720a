"""Evidence photos: type checked by content, every metadata block (EXIF location, comments,
profiles) stripped by re-encoding the pixels alone."""

import hashlib
import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from complaints.cases.models import Evidence, EvidenceKind
from complaints.extensions import db

ACCEPTED_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    # Phones' multi-picture JPEGs (portrait depth maps, bursts): the first frame is the photo.
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is already more than any phone sends


class EvidenceRejected(ValueError):
    """The message names the file and says what is wrong with it."""


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str


def clean_image(raw: bytes, filename: str, max_bytes: int) -> CleanImage:
    if len(raw) > max_bytes:
        raise EvidenceRejected(
            _("%(name)s is larger than %(mb)d MB.", name=filename, mb=max_bytes // 2**20)
        )
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            image_format = probe.format
            if image_format not in ACCEPTED_FORMATS:
                raise EvidenceRejected(
                    _("%(name)s is not a JPEG, PNG or WebP photo.", name=filename)
                )
            if probe.width * probe.height > MAX_PIXELS:
                raise EvidenceRejected(_("%(name)s has too many pixels.", name=filename))
            probe.seek(0)
            probe.load()
            upright = ImageOps.exif_transpose(probe)
            # Only pixels leave: a fresh image carries no comment, ICC, XMP, EXIF or text
            # chunk, which Pillow would otherwise copy from `info` when saving.
            pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes())
            if upright.mode == "P":
                pixels.putpalette(upright.getpalette())
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise EvidenceRejected(
            _("%(name)s is not a readable JPEG, PNG or WebP photo.", name=filename)
        ) from exc
    content_type, extension = ACCEPTED_FORMATS[image_format]
    out = io.BytesIO()
    # Re-encoding from pixels drops EXIF, GPS, comments and any trailing payload.
    if content_type == "image/jpeg":
        pixels.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    else:
        pixels.save(out, image_format)
    return CleanImage(out.getvalue(), content_type, extension)


def store_file(document: CleanImage, upload_dir: str) -> dict:
    """Write a cleaned file under a random name; the Evidence columns that describe it."""
    stored_name = f"{secrets.token_hex(16)}.{document.extension}"
    (Path(upload_dir) / stored_name).write_bytes(document.data)
    return {
        "stored_name": stored_name,
        "content_type": document.content_type,
        "size_bytes": len(document.data),
        "sha256": hashlib.sha256(document.data).hexdigest(),
    }


def stage_uploads(
    files, *, submission_key_hash: str, upload_dir: str, max_bytes: int, max_files: int
) -> list[str]:
    """Store each acceptable file against the submission; return one message per rejected file.

    Staging means a form re-rendered for another error keeps the photos already sent.
    """
    files = [storage for storage in files if storage and storage.filename]
    if not files:
        return []  # most complaints come without photos: no query, no flush
    already = db.session.query(Evidence).filter_by(submission_key_hash=submission_key_hash)
    seen_digests = {item.sha256 for item in already}
    errors: list[str] = []
    for storage in files:
        if not storage or not storage.filename:
            continue
        if len(seen_digests) >= max_files:
            errors.append(_("At most %(n)d photos per complaint.", n=max_files))
            break
        raw = storage.stream.read(max_bytes + 1)
        try:
            image = clean_image(raw, storage.filename, max_bytes)
        except EvidenceRejected as exc:
            errors.append(str(exc))
            continue
        digest = hashlib.sha256(image.data).hexdigest()
        if digest in seen_digests:
            continue
        seen_digests.add(digest)
        db.session.add(
            Evidence(
                submission_key_hash=submission_key_hash,
                kind=EvidenceKind.PHOTO,
                original_name=storage.filename[:255],
                **store_file(image, upload_dir),
            )
        )
    db.session.flush()
    return errors


def staged_evidence(submission_key_hash: str) -> list[Evidence]:
    return (
        db.session.query(Evidence)
        .filter_by(submission_key_hash=submission_key_hash, case_id=None)
        .order_by(Evidence.id)
        .all()
    )


def send_evidence_file(stored_name: str, content_type: str):
    """A stored evidence file for staff; never cached by shared proxies, never sniffed as HTML."""
    from flask import current_app, send_from_directory

    response = send_from_directory(
        current_app.config["UPLOAD_DIR"], stored_name, mimetype=content_type
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not content_type.startswith("image/"):
        # A PDF is kept as issued, so it may carry scripts: download it, never run it here.
        response.headers["Content-Disposition"] = f"attachment; filename={stored_name}"
        response.headers["Content-Security-Policy"] = "sandbox"
    return response
