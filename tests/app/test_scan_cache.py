"""The kept scan page: served without the database, dropped at once when what it shows changes."""

import gzip
from datetime import timedelta

import brotli
import pytest
from sqlalchemy import event, update

from complaints.config import REDIS_CACHE_OPTIONS
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Enterprise
from complaints.merchants.services import rotate_outlet_code, scan_url
from tests import services as test_services
from tests.app.helpers import file_case, outlet_named


def _make_cached_app(app, database_url, tmp_path, **overrides):
    from complaints import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": str(tmp_path),
            "CACHE_TYPE": "SimpleCache",
            "CACHE_OPTIONS": None,  # the Redis socket options when REDIS_URL is set
            "SCAN_CACHE_SECONDS": 3600,
            # Scan counts are written in batches (analytics); not within these tests.
            "SCAN_COUNT_FLUSH_SECONDS": 3600,
            "QR_SIGNING_KEY": app.config["QR_SIGNING_KEY"],
            "PUBLIC_BASE_URL": "http://anxin.test",
            **overrides,
        }
    )


@pytest.fixture
def cached_app(app, seeded, database_url, tmp_path):
    application = _make_cached_app(app, database_url, tmp_path)
    yield application
    with application.app_context():
        db.engine.dispose()


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args):
        self.count += 1

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def _scan_path(application, name="Ah Hai"):
    with application.app_context():
        outlet = outlet_named(name)
        return scan_url(outlet).removeprefix("http://anxin.test") + "?lang=en", outlet.id


def _page(client, path):
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def _warm(client, path, times=2):
    # The first render in a process learns the outlet's enterprise, the second is kept.
    for _ in range(times):
        assert client.get(path).status_code == 200


def test_a_kept_page_is_served_without_a_query(cached_app):
    path, _ = _scan_path(cached_app)
    client = cached_app.test_client()
    _warm(client, path)
    with cached_app.app_context():
        counter = StatementCounter(db.engine)
    try:
        status, html = _page(client, path)
    finally:
        counter.close()
    assert status == 200
    assert "Ah Hai Seafood Kitchen" in html
    assert counter.count == 0


def test_a_rotated_code_is_refused_at_once(cached_app):
    path, outlet_id = _scan_path(cached_app)
    client = cached_app.test_client()
    _warm(client, path)
    with cached_app.app_context():
        outlet = db.session.get(type(outlet_named("Ah Hai")), outlet_id)
        rotate_outlet_code(outlet, actor="merchant:owner", reason="copied")
        db.session.commit()
    assert client.get(path).status_code == 410


def test_enterprise_and_outlet_edits_show_at_once(cached_app):
    path, _outlet_id = _scan_path(cached_app)
    client = cached_app.test_client()
    _warm(client, path)
    with cached_app.app_context():
        outlet = outlet_named("Ah Hai")
        outlet.enterprise.name_en = "Ah Hai Seafood Kitchen Renamed"
        db.session.commit()
    assert "Ah Hai Seafood Kitchen Renamed" in _page(client, path)[1]
    _warm(client, path, times=1)
    with cached_app.app_context():
        outlet_named("Ah Hai").address = "1 New Harbour Road"
        db.session.commit()
    assert "1 New Harbour Road" in _page(client, path)[1]


def test_a_new_complaint_and_a_new_grade_show_at_once(cached_app):
    from complaints.credit.models import MerchantScore

    path, _ = _scan_path(cached_app)
    client = cached_app.test_client()
    _warm(client, path)
    before = _page(client, path)[1]
    with cached_app.app_context():
        outlet = outlet_named("Ah Hai")
        file_case(outlet, now=utcnow())
        db.session.commit()
    after = _page(client, path)[1]
    assert _complaints_shown(after) == _complaints_shown(before) + 1
    _warm(client, path, times=1)
    with cached_app.app_context():
        enterprise_id = outlet_named("Ah Hai").enterprise_id
        row = db.session.get(MerchantScore, enterprise_id)
        if row is None:
            row = MerchantScore(enterprise_id=enterprise_id, score=40, grade="D")
            db.session.add(row)
        else:
            row.grade = "D" if row.grade != "D" else "C"
        new_grade = row.grade
        db.session.commit()
    assert f'data-grade="{new_grade}"' in _page(client, path)[1]


def test_a_bulk_update_and_a_rollback(cached_app):
    path, _ = _scan_path(cached_app)
    client = cached_app.test_client()
    _warm(client, path)
    with cached_app.app_context():
        enterprise_id = outlet_named("Ah Hai").enterprise_id
        db.session.execute(
            update(Enterprise).where(Enterprise.id == enterprise_id).values(trusted=False)
        )
        db.session.commit()
    assert 'data-mark="trusted"' not in _page(client, path)[1]
    _warm(client, path, times=1)
    with cached_app.app_context():
        outlet_named("Ah Hai").enterprise.name_en = "Never committed"
        db.session.flush()
        db.session.rollback()
    with cached_app.app_context():
        counter = StatementCounter(db.engine)
    try:
        assert "Never committed" not in _page(client, path)[1]
    finally:
        counter.close()
    assert counter.count == 0  # a rolled back write drops nothing


def test_a_kept_page_ends_when_a_credit_entry_expires(cached_app, monkeypatch):
    from complaints.credit.models import MerchantScore
    from complaints.merchants import views

    path, _ = _scan_path(cached_app)
    now = utcnow()
    with cached_app.app_context():
        enterprise_id = outlet_named("Ah Hai").enterprise_id
        row = db.session.get(MerchantScore, enterprise_id) or MerchantScore(
            enterprise_id=enterprise_id, score=60, grade="C"
        )
        row.next_expiry_at = now + timedelta(hours=1)
        db.session.add(row)
        db.session.commit()
    client = cached_app.test_client()
    _warm(client, path)
    monkeypatch.setattr(views, "utcnow", lambda: now + timedelta(hours=2))
    with cached_app.app_context():
        counter = StatementCounter(db.engine)
    try:
        assert client.get(path).status_code == 200
    finally:
        counter.close()
    assert counter.count > 0  # rendered again, not served from the kept copy


def test_the_kept_page_is_compressed_once_and_served_as_asked(cached_app):
    path, _ = _scan_path(cached_app)
    client = cached_app.test_client()
    _warm(client, path)
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    br = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data) == plain.data
    gz = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(gz.data) == plain.data
    assert len(br.data) < len(plain.data) / 2


def test_tokens_in_redis_are_shared_by_processes(app, seeded, database_url, tmp_path):
    """Two apps (two web processes) on one Redis: a write through one is seen by the other."""
    test_services.require_redis()
    redis_url = test_services.redis_url()
    apps = [
        _make_cached_app(
            app,
            database_url,
            tmp_path,
            CACHE_TYPE="RedisCache",
            CACHE_REDIS_URL=redis_url,
            CACHE_OPTIONS=REDIS_CACHE_OPTIONS,
        )
        for _ in range(2)
    ]
    prefix = f"anxin-test-{id(apps)}:"
    for application in apps:
        application.extensions["cache"] = {}
        application.config["CACHE_KEY_PREFIX"] = prefix
        from complaints.extensions import cache

        cache.init_app(application)
    try:
        path, _ = _scan_path(apps[0])
        reader = apps[0].test_client()
        _warm(reader, path)
        with apps[1].app_context():
            outlet_named("Ah Hai").enterprise.name_en = "Renamed Elsewhere"
            db.session.commit()
        assert "Renamed Elsewhere" in _page(reader, path)[1]
    finally:
        with apps[0].app_context():
            cache.clear()
        for application in apps:
            with application.app_context():
                db.engine.dispose()


def _complaints_shown(html: str) -> int:
    marker = 'data-field="complaints">'
    start = html.index(marker) + len(marker)
    return int(html[start : html.index("<", start)])


def test_without_its_cache_the_page_renders_and_writes_commit(app, seeded, database_url, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens there once the socket closes
    broken = _make_cached_app(
        app,
        database_url,
        tmp_path,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=f"redis://127.0.0.1:{closed_port}/0",
        CACHE_OPTIONS=REDIS_CACHE_OPTIONS,
    )
    try:
        path, _ = _scan_path(broken)
        client = broken.test_client()
        for _ in range(3):
            assert client.get(path).status_code == 200
        with broken.app_context():
            outlet_named("Ah Hai").enterprise.name_en = "Renamed Without Redis"
            db.session.commit()  # the tokens cannot be dropped: the commit stands regardless
        assert "Renamed Without Redis" in _page(client, path)[1]
    finally:
        with broken.app_context():
            db.engine.dispose()


def test_a_core_insert_names_its_enterprise(cached_app):
    """A filing written as one Core INSERT (not through the unit of work) still drops the page."""
    from sqlalchemy import insert

    from complaints.cases.models import Case

    path, _ = _scan_path(cached_app)
    client = cached_app.test_client()
    _warm(client, path)
    before = _complaints_shown(_page(client, path)[1])
    with cached_app.app_context():
        model = file_case(outlet_named("Ah Hai"), now=utcnow())
        columns = {
            c.key: getattr(model, c.key) for c in Case.__table__.columns if c.key not in ("id",)
        }
        columns.update(
            number=model.number + "X", tracking_key_hash="t" * 64, submission_key_hash="s" * 64
        )
        _warm(client, path, times=1)
        db.session.execute(insert(Case), [{k: v for k, v in columns.items() if v is not None}])
        db.session.commit()
    assert _complaints_shown(_page(client, path)[1]) == before + 2
