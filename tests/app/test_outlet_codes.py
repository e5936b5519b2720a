"""Printed codes, decoded by a real QR decoder, lead back to the outlet's scan page."""

import io
import json

import pytest
import zxingcpp
from PIL import Image

from complaints.merchants.services import scan_url
from tests.app.helpers import outlet_named
from tests.app.test_console_support import sign_in

TWO_CM_AT_300_DPI = round(20 / 25.4 * 300)


@pytest.fixture
def client(client, seeded):
    """Code images are for the merchant's staff and regulators: Ah Hai's owner, signed in."""
    sign_in(client, "owner.ahhai@anxin.demo")
    return client


def _decode(png: bytes) -> list[str]:
    with Image.open(io.BytesIO(png)) as image:
        return [result.text for result in zxingcpp.read_barcodes(image)]


def test_png_decodes_to_the_scan_url_even_at_2_cm(client, seeded):
    outlet = outlet_named("Ah Hai")
    response = client.get(f"/outlets/{outlet.code}/qr.png")
    assert response.mimetype == "image/png"
    url = scan_url(outlet)
    assert _decode(response.data) == [url]
    with Image.open(io.BytesIO(response.data)) as image:
        small = image.convert("L").resize((TWO_CM_AT_300_DPI,) * 2, Image.Resampling.LANCZOS)
        assert [r.text for r in zxingcpp.read_barcodes(small)] == [url]
    # The decoded URL opens the outlet's page, not another's.
    path = url.removeprefix("http://anxin.test")
    assert "Ah Hai Seafood Kitchen" in client.get(path + "?lang=en").get_data(as_text=True)


def test_print_png_is_sized_for_the_paper(client, seeded):
    outlet = outlet_named("Ah Hai")
    response = client.get(f"/outlets/{outlet.code}/qr-print.png?mm=20")
    with Image.open(io.BytesIO(response.data)) as image:
        assert image.width >= TWO_CM_AT_300_DPI
    assert _decode(response.data) == [scan_url(outlet)]
    assert client.get(f"/outlets/{outlet.code}/qr-print.png?mm=5").status_code == 400


def test_svg_is_a_scalable_document(client, seeded):
    outlet = outlet_named("Ah Hai")
    response = client.get(f"/outlets/{outlet.code}/qr.svg")
    assert response.mimetype == "image/svg+xml"
    assert b"viewBox" in response.data


def test_poster_is_bilingual_and_print_sized(client, seeded):
    outlet = outlet_named("Ah Hai")
    for size, width in (("a5", "148mm"), ("a6", "105mm")):
        page = client.get(f"/outlets/{outlet.code}/poster?size={size}").get_data(as_text=True)
        assert "扫码投诉" in page
        assert "Scan to complain" in page
        assert outlet.enterprise.name_zh in page
        assert outlet.enterprise.uscc in page
        assert f"size: {size.upper()}" in page
        assert width in page
        assert f"/outlets/{outlet.code}/qr.svg" in page
    assert client.get(f"/outlets/{outlet.code}/poster?size=a0").status_code == 400


def test_rotation_changes_the_printed_code(client, seeded):
    from complaints.extensions import db
    from complaints.merchants.services import rotate_outlet_code

    outlet = outlet_named("Ah Hai")
    before = _decode(client.get(f"/outlets/{outlet.code}/qr.png").data)
    rotate_outlet_code(outlet, actor="merchant:owner", reason="sticker defaced")
    db.session.commit()
    after = _decode(client.get(f"/outlets/{outlet.code}/qr.png").data)
    assert before != after
    assert after == [scan_url(outlet)]


def test_unknown_outlet_codes_are_404(client, seeded):
    assert client.get("/outlets/NOPE1234/qr.png").status_code == 404


def test_outlets_list_cli(runner, seeded):
    from complaints.extensions import db
    from complaints.merchants.models import Outlet

    outlets = db.session.query(Outlet).count()
    result = runner.invoke(args=["outlets", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == outlets
    code, _merchant, url = lines[0].split("\t")
    assert url.startswith("http://anxin.test/s/")
    assert code in url
    as_json = runner.invoke(args=["outlets", "list", "--json"])
    rows = [json.loads(line) for line in as_json.output.strip().splitlines()]
    assert {row["code"] for row in rows} == {line.split("\t")[0] for line in lines}
    assert all(_decodes_back(row["url"]) for row in rows[:2])


def _decodes_back(url: str) -> bool:
    from complaints.merchants.qrcodes import qr_png

    return _decode(qr_png(url)) == [url]


def test_seed_is_idempotent(runner, seeded):
    from sqlalchemy import func, select

    from complaints.extensions import db
    from complaints.merchants.models import Enterprise, Outlet

    before = (
        db.session.scalar(select(func.count(Enterprise.id))),
        db.session.scalar(select(func.count(Outlet.id))),
    )
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert runner.invoke(args=["seed"]).exit_code == 0
    after = (
        db.session.scalar(select(func.count(Enterprise.id))),
        db.session.scalar(select(func.count(Outlet.id))),
    )
    assert before == after
    assert before[0] >= 10


def test_demo_seed_files_complaints_in_several_states_once(runner, seeded):
    from sqlalchemy import func, select

    from complaints.cases.models import Case
    from complaints.extensions import db

    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "filed 9 demo complaints" in first.output
    assert "filed 0 demo complaints" in runner.invoke(args=["seed"]).output
    states = {state.value for state in db.session.scalars(select(Case.state))}
    assert {"merchant_response", "regulator_review", "mediation", "resolved"} <= states
    assert db.session.scalar(select(func.count(Case.id))) == 9
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_production_seed_has_no_invented_merchants_or_money(app, app_ctx, monkeypatch):
    from sqlalchemy import func, select

    from complaints.compensation.models import Fund, LedgerTransaction
    from complaints.extensions import db
    from complaints.merchants.models import Enterprise
    from complaints.seed import seed_all

    monkeypatch.setitem(app.config, "ANXIN_ENV", "production")
    seed_all()
    db.session.commit()
    assert db.session.scalar(select(func.count(Enterprise.id))) == 0
    assert db.session.scalar(select(func.count(Fund.id))) > 0
    assert db.session.scalar(select(func.count(LedgerTransaction.id))) == 0
