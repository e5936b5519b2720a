"""Static files under content-hashed names, cached for a year, and compressed responses.

`static_url("app.css")` (the one helper templates use) gives `/assets/app.3f2a9c1b7d4e.css`: the
name changes whenever the bytes do, so browsers and CDNs may keep a file for a year
(`Cache-Control: public, max-age=31536000, immutable`) and a release is seen at once. The files
are read, hashed and compressed (brotli and gzip) once at start: static files change only with a
release, which restarts the processes. Other responses (pages, JSON) are compressed by
Flask-Compress; a response that already carries a Content-Encoding (these files, the kept scan
page) is left alone.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

import brotli
from flask import Flask, Response, abort, current_app, request, url_for
from flask_compress import Compress

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
_EXTENSION = "anxin_assets"
compress = Compress()


@dataclass
class Asset:
    hashed_name: str
    mimetype: str
    content: bytes
    compressible: bool
    _encoded: dict[str, bytes] = field(default_factory=dict)

    @property
    def bodies(self) -> dict[str, bytes]:
        """ "identity", and "br" and "gzip" for text, each compressed once, on first use (a large
        vendor file would slow every start if compressed when the manifest is built)."""
        if not self.compressible:
            return {"identity": self.content}
        if not self._encoded:
            small = len(self.content) < 64 * 1024
            self._encoded["br"] = brotli.compress(self.content, quality=11 if small else 9)
            self._encoded["gzip"] = gzip.compress(self.content, compresslevel=9, mtime=0)
        return {"identity": self.content, **self._encoded}


@dataclass(frozen=True)
class Manifest:
    by_name: dict[str, Asset]  # "app.css" -> asset
    by_hashed_name: dict[str, Asset]
    version: str  # changes when any file does (keys of caches that hold rendered pages)


def hashed_name(relative: str, content: bytes) -> str:
    path = Path(relative)
    digest = hashlib.sha256(content).hexdigest()[:12]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def build_manifest(folder: Path) -> Manifest:
    by_name: dict[str, Asset] = {}
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = file.relative_to(folder).as_posix()
        content = file.read_bytes()
        mimetype = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        compressible = _compressible(mimetype)
        by_name[relative] = Asset(hashed_name(relative, content), mimetype, content, compressible)
    version = hashlib.sha256(
        "\n".join(a.hashed_name for a in by_name.values()).encode()
    ).hexdigest()[:12]
    return Manifest(by_name, {a.hashed_name: a for a in by_name.values()}, version)


def _compressible(mimetype: str) -> bool:
    return mimetype.startswith("text/") or mimetype in (
        "application/javascript",
        "application/json",
        "image/svg+xml",
    )


def _manifest() -> Manifest:
    return current_app.extensions[_EXTENSION]


def static_url(filename: str) -> str:
    """The address of a static file under its content-hashed name (the only way templates
    refer to static files)."""
    asset = _manifest().by_name.get(filename)
    if asset is None:
        raise LookupError(f"no static file {filename!r} in {current_app.static_folder}")
    return url_for("asset", name=asset.hashed_name)


def asset_version() -> str:
    return _manifest().version


def chosen_encoding(available) -> str:
    """brotli, else gzip, else identity, as the client's Accept-Encoding allows."""
    if "Accept-Encoding" not in request.headers:
        return "identity"
    accepted = request.accept_encodings
    for encoding in ("br", "gzip"):
        if encoding in available and accepted[encoding] > 0:
            return encoding
    return "identity"


def encoded_response(bodies: dict[str, bytes], mimetype: str) -> Response:
    """One of the prepared bodies; flask-compress skips it (Content-Encoding is set)."""
    encoding = chosen_encoding(bodies)
    headers = {"Vary": "Accept-Encoding"}
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    return Response(bodies[encoding], mimetype=mimetype, headers=headers)


def serve_asset(name: str) -> Response:
    asset = _manifest().by_hashed_name.get(name) or abort(404)
    response = encoded_response(asset.bodies, asset.mimetype)
    response.headers["Cache-Control"] = IMMUTABLE
    return response


def register_assets(app: Flask) -> None:
    app.extensions[_EXTENSION] = build_manifest(Path(app.static_folder))
    app.add_url_rule("/assets/<path:name>", "asset", serve_asset)
    app.jinja_env.globals["static_url"] = static_url
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    compress.init_app(app)
