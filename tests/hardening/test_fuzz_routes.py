"""Issue 11.5: no route answers 5xx to hostile input. Every rule of `app.url_map` (so a new route
is covered without editing this file), as the identity that can reach its code, gets NUL bytes,
invalid UTF-8, integers beyond 64 bits and unparseable dates in path segments, query strings
and form fields, and a body over MAX_UPLOAD_BYTES. Run on PostgreSQL (DATABASE_URL) as CI does:
SQLite accepts NUL bytes and huge integers that PostgreSQL refuses."""

import secrets

import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from complaints.database import utcnow
from tests.app.test_console_support import TAXI, file_case
from tests.app_fixtures import error_for, hidden_fields
from tests.hardening.support import variant_app

HUGE = "9" * 30
NUL = "a\x00b"
BAD_UTF8 = "%FF%FE%C3"
BAD_DATES = ("04/12/2026", "yesterday", "", "2026-13-45", "0000-00-00")
DEMO_PASSWORD = "anxin-demo-2026"
IDENTITIES = {"/console": "admin@anxin.demo", "/merchant/": "owner.jewellery@anxin.demo"}
MAX_BODY = 64 * 1024


def _form_field_names() -> set[str]:
    """Every field name of every WTForms form the app defines (imported with the app)."""
    names, pending = set(), [FlaskForm]
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        for attr in dir(form_class):
            if isinstance(getattr(form_class, attr, None), UnboundField):
                names.add(attr)
    return names


@pytest.fixture
def fuzz_app(app, seeded, tmp_path, monkeypatch):
    from complaints.cases.services import tracking_key_for

    # Routed, so console pages reach their full code; filed with a submission key we know.
    key = secrets.token_urlsafe(24)
    with monkeypatch.context() as patched:
        patched.setattr(secrets, "token_urlsafe", lambda n=None: key)
        case = file_case(TAXI, utcnow())
    tracking = tracking_key_for(key, "test")
    with variant_app(
        app,
        tmp_path,
        MAX_CONTENT_LENGTH=MAX_BODY,
        PROPAGATE_EXCEPTIONS=False,  # a crash is a 500 to count, not an error to stop at
    ) as other:
        yield other, case, tracking


def _good_values(case, tracking_key) -> dict[str, str]:
    from complaints.merchants.services import scan_token

    outlet = case.outlet
    return {
        "token": scan_token(outlet),
        "uscc": case.enterprise.uscc,
        "code": outlet.code,
        "tracking_key": tracking_key,
        "number": case.number,
        "trigger": "accept",
        "action": "approve",
        "answer": "accept",
        "verdict": "grant",
        "filename": "app.css",
    }


def _identity(rule: str) -> str | None:
    return next((email for prefix, email in IDENTITIES.items() if rule.startswith(prefix)), None)


def _client(app, email):
    """A client signed in as `email` (or anonymous) and a CSRF token of its session, so
    hostile posts reach the views instead of stopping at the CSRF check."""
    client = app.test_client()
    if not email:
        return client, hidden_fields(client.get("/login").get_data(as_text=True))["csrf_token"]
    page = client.get("/login")
    data = hidden_fields(page.get_data(as_text=True))
    data.update(email=email, password=DEMO_PASSWORD)
    landing = client.post("/login", data=data)
    assert landing.status_code == 303
    page = client.get(landing.headers["Location"]).get_data(as_text=True)
    return client, hidden_fields(page)["csrf_token"]


def _build(rule, values: dict[str, str]) -> str:
    path = rule.rule
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        value = values.get(name, "1" if converter == "IntegerConverter" else "x")
        path = path.replace(f"<{_token(rule, name)}>", value)
    return path


def _token(rule, name):
    for part in rule.rule.split("<")[1:]:
        inside = part.split(">")[0]
        if inside.split(":")[-1] == name:
            return inside
    raise AssertionError(name)


def _requests(rule, good, fields, csrf_token):
    """(method, url, data) triples: one hostile thing at a time, the rest as a real user sends."""
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    base = _build(rule, good)
    for name in rule.arguments:
        converter = rule._converters[name].__class__.__name__
        hostile = (
            [HUGE, "-" + HUGE] if converter == "IntegerConverter" else ["%00x", BAD_UTF8, HUGE]
        )
        for value in hostile:
            for method in methods:
                yield method, _build(rule, {**good, name: value}), None
    for query in (
        "before=%s&fund=%s&mm=%s&page=%s&after=%s" % ((HUGE,) * 5),
        "q=%00&lang=%00&next=%00&size=%00&figure=%00&due=%00",
        f"q={BAD_UTF8}&next={BAD_UTF8}&after=yesterday&due=04/12/2026",
    ):
        yield "GET", f"{base}?{query}", None
    if "POST" in methods:
        prefix = base.rstrip("/").rsplit("/", 1)[-1]
        for value in (NUL, HUGE, *BAD_DATES):
            data = {}
            for field in fields:
                data[field] = value
                data[f"{prefix}-{field}"] = value
            yield "POST", base, {**data, **_csrf(prefix, csrf_token)}
        token = f"csrf_token={csrf_token}&{prefix}-csrf_token={csrf_token}&".encode()
        yield "POST", base, token + b"description=" + b"\xff\xfe\xc3" * 10
        yield "POST", base, {"evidence": [(_Big(), "big.jpg")], **_csrf(prefix, csrf_token)}


def _csrf(prefix, token):
    return {"csrf_token": token, f"{prefix}-csrf_token": token}


class _Big:
    def read(self, *args):
        data, self.done = (b"" if getattr(self, "done", False) else b"x" * (MAX_BODY * 2)), True
        return data


def test_no_route_answers_5xx_to_hostile_input(fuzz_app):
    app, case, tracking = fuzz_app
    good = _good_values(case, tracking)
    fields = _form_field_names()
    failures, count = [], 0
    clients = {}
    for rule in app.url_map.iter_rules():
        email = _identity(rule.rule)
        if email not in clients:
            clients[email] = _client(app, email)
        client, csrf_token = clients[email]
        for method, url, data in _requests(rule, good, fields, csrf_token):
            count += 1
            if method == "GET":
                response = client.get(url)
            elif isinstance(data, bytes):
                response = client.post(
                    url, data=data, content_type="application/x-www-form-urlencoded"
                )
            else:
                response = client.post(url, data=data or {}, content_type="multipart/form-data")
            response.close()
            if response.status_code >= 500:
                failures.append((method, url, sorted(data)[:3] if data else None))
    assert count > 300
    assert not failures, f"{len(failures)} of {count} requests answered 5xx: {failures[:20]}"


def test_hostile_input_is_a_clear_4xx_naming_the_field(client, seeded):
    from tests.app.helpers import complaint_form_data, outlet_named, token_for

    token = token_for(outlet_named("Ah Hai"))
    typed = "The waiter charged twice for one dish.\x00"
    data = complaint_form_data(client, token, description=typed)
    kept = client.post(f"/s/{token}/complain?lang=en", data=data)
    assert kept.status_code == 422  # the form again, as typed but for the NUL, field named
    assert error_for(kept.text, "description") == [
        "This field contained a character that cannot be stored (a NUL byte). It was removed: "
        "check the text and send again."
    ]
    assert "The waiter charged twice for one dish.</textarea>" in kept.text
    # Elsewhere a 400 naming the field.
    refused = client.post("/login?lang=en", data={"email": "a\x00@b.c", "password": "x"})
    assert refused.status_code == 400
    assert "“email” contains a character that cannot be stored" in refused.text
    # An unreadable date keeps everything typed and says which field and how to write it.
    data = complaint_form_data(client, token, occurred_on="04/12/2026")
    page = client.post(f"/s/{token}/complain?lang=en", data=data)
    assert page.status_code == 422
    assert error_for(page.text, "occurred_on") == [
        "Enter the date as year-month-day, for example 2026-12-03."
    ]
    assert 'value="04/12/2026"' in page.text
    assert "Charged 880 yuan" in page.text
    huge = client.get(f"/outlets/x/qr-print.png?mm={HUGE}&lang=en")
    assert huge.status_code == 400
    assert "“mm” is far too large" in huge.text
    assert client.get(f"/console/evidence/{HUGE}").status_code in (302, 404)


def test_a_photo_too_large_is_a_field_error_with_the_form_kept(app, client, seeded, tmp_path):
    import io

    from tests.app.helpers import complaint_form_data, outlet_named, token_for

    token = token_for(outlet_named("Ah Hai"))
    # Small limits: the test client spools bodies over 500 KB to files it never closes.
    limits = {"EVIDENCE_MAX_FILE_BYTES": 2**18, "MAX_CONTENT_LENGTH": 6 * 2**18 + 2**20}
    with variant_app(app, tmp_path, **limits) as other:
        small = other.test_client()
        data = complaint_form_data(small, token, description="Typed with care, then a huge photo.")
        data["evidence"] = [(io.BytesIO(b"\xff\xd8" + b"0" * (2**18 + 10)), "huge.jpg")]
        page = small.post(
            f"/s/{token}/complain?lang=en", data=data, content_type="multipart/form-data"
        )
    assert page.status_code == 422
    [error] = error_for(page.text, "evidence")
    assert error.startswith("huge.jpg is larger than")
    assert "Typed with care, then a huge photo." in page.text


def test_the_body_limit_stays_above_what_valid_photos_need(tmp_path):
    from complaints.config import ConfigError, load_config

    config = load_config(str(tmp_path), {})
    assert config["MAX_CONTENT_LENGTH"] >= 6 * 8 * 2**20
    with pytest.raises(ConfigError, match="MAX_UPLOAD_BYTES"):
        load_config(str(tmp_path), {"MAX_UPLOAD_BYTES": str(24 * 2**20)})
