"""Static files under content-hashed names with a year's immutable caching; compressed pages."""

import gzip
import hashlib
import re
from pathlib import Path

import brotli

from complaints.assets import build_manifest, hashed_name

STATIC = Path(__file__).resolve().parents[2] / "static"


def _stylesheet_url(html: str) -> str:
    return re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)


def test_pages_link_the_stylesheet_by_its_content_hash(client):
    html = client.get("/").get_data(as_text=True)
    url = _stylesheet_url(html)
    digest = hashlib.sha256((STATIC / "app.css").read_bytes()).hexdigest()[:12]
    assert url == f"/assets/app.{digest}.css"


def test_a_hashed_file_is_kept_for_a_year_and_compressed(client):
    url = _stylesheet_url(client.get("/").get_data(as_text=True))
    original = (STATIC / "app.css").read_bytes()
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.data == original
    assert plain.mimetype == "text/css"
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    br = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data) == original
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(gz.data) == original


def test_an_unknown_or_outdated_hash_is_not_found(client):
    assert client.get("/assets/app.000000000000.css").status_code == 404
    assert client.get("/assets/app.css").status_code == 404


def test_a_changed_file_gets_a_new_name(tmp_path):
    (tmp_path / "app.css").write_text("body { color: red; }")
    first = build_manifest(tmp_path)
    (tmp_path / "app.css").write_text("body { color: blue; }")
    second = build_manifest(tmp_path)
    assert first.by_name["app.css"].hashed_name != second.by_name["app.css"].hashed_name
    assert first.version != second.version
    assert hashed_name("js/a.min.js", b"x").startswith("js/a.min.")


def test_pages_are_compressed_for_browsers_that_ask(client):
    plain = client.get("/?lang=en", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        response = client.get("/?lang=en", headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert decompress(response.data) == plain.data
