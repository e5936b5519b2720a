"""Admin screens: upload with per-row errors, enterprise/outlet lists and edits, posters,
the audit log, and who may see and change what."""

import io

from sqlalchemy import select

from complaints.admin import queries
from complaints.admin.models import AdminChange
from complaints.extensions import db
from complaints.merchants.models import Enterprise, Outlet
from tests.app.admin_files import (
    BAD_CHECK,
    ENTERPRISE_HEADER,
    HOTEL,
    csv_bytes,
    good_enterprises,
)
from tests.app.test_console_support import HAIKOU_HANDLER, SANYA_HANDLER, sign_in
from tests.app_fixtures import error_for, hidden_fields

ADMIN = "admin@anxin.demo"
OWNER = "owner.ahhai@anxin.demo"


def _csrf(client, url: str) -> dict:
    return hidden_fields(client.get(url).get_data(as_text=True))


def _upload(client, content: bytes, filename="rows.csv", **fields):
    data = _csrf(client, "/admin/import")
    data.update(kind="enterprises", reason="pilot onboarding", **fields)
    data["file"] = (io.BytesIO(content), filename)
    return client.post("/admin/import?lang=en", data=data, content_type="multipart/form-data")


def test_upload_shows_each_rejected_row_then_the_fixed_file_imports(client, seeded):
    sign_in(client, ADMIN)
    rows = [*good_enterprises(), [BAD_CHECK, "坏", "", "460203", "", "", "", ""]]
    response = _upload(client, csv_bytes(ENTERPRISE_HEADER, rows), all_or_nothing="y")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "imported 2, updated 0, unchanged 0, rejected 1" in html
    assert '<td>4</td><td class="mono">uscc</td>' in html
    assert db.session.scalar(select(Enterprise).where(Enterprise.uscc == HOTEL)) is None
    fixed = _upload(client, csv_bytes(ENTERPRISE_HEADER, good_enterprises()))
    assert fixed.status_code == 200
    assert "imported 2, updated 0, unchanged 0, rejected 0" in fixed.get_data(as_text=True)
    change = db.session.scalar(select(AdminChange).where(AdminChange.subject_key == HOTEL))
    assert (change.actor, change.reason) == (ADMIN, "pilot onboarding")


def test_upload_of_a_file_without_columns_names_what_is_missing(client, seeded):
    sign_in(client, ADMIN)
    response = _upload(client, csv_bytes(["uscc"], [[HOTEL]]))
    assert response.status_code == 422
    assert "missing: name_zh, division_code" in response.get_data(as_text=True)


def test_admin_creates_and_edits_an_outlet_and_the_log_shows_it(client, seeded):
    sign_in(client, ADMIN)
    ahhai = db.session.scalar(select(Enterprise).where(Enterprise.name_en.contains("Ah Hai")))
    data = _csrf(client, "/admin/outlets/new")
    data.update(
        uscc=ahhai.uscc,
        name_zh="阿海海鲜二店",
        name_en="Ah Hai 2",
        category="catering",
        division_code="460204",
        address="三亚市天涯区解放路1号",
        lat="18.25",
        long="109.50",
        reason="new branch",
    )
    response = client.post("/admin/outlets/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    outlet = db.session.scalar(select(Outlet).where(Outlet.name_zh == "阿海海鲜二店"))
    assert (outlet.latitude, outlet.enterprise_id) == (18.25, ahhai.id)
    edit = _csrf(client, f"/admin/outlets/{outlet.code}/edit")
    edit.update({**data, "address": "三亚市天涯区解放路2号", "reason": "moved"})
    assert client.post(f"/admin/outlets/{outlet.code}/edit", data=edit).status_code == 303
    log = client.get(f"/admin/changes?key={outlet.code}&lang=en").get_data(as_text=True)
    assert "moved" in log
    assert "address: 三亚市天涯区解放路2号" in log
    assert "new branch" in log


def test_outlet_form_errors_name_the_field_and_keep_input(client, seeded):
    sign_in(client, ADMIN)
    data = _csrf(client, "/admin/outlets/new")
    data.update(
        uscc="nope",
        name_zh="店",
        category="catering",
        division_code="460204",
        lat="95",
        long="",
        reason="x",
    )
    response = client.post("/admin/outlets/new?lang=en", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_for(html, "lat")
    assert 'value="店"' in html


def test_enterprise_override_of_a_check_character_is_recorded(client, seeded):
    sign_in(client, ADMIN)
    data = _csrf(client, "/admin/enterprises/new")
    data.update(
        uscc=BAD_CHECK,
        name_zh="试点商户",
        division_code="460203",
        notify_language="zh",
        reason="pilot",
    )
    refused = client.post("/admin/enterprises/new?lang=en", data=data)
    assert refused.status_code == 422
    assert "override" in " ".join(error_for(refused.get_data(as_text=True), "uscc"))
    data["uscc_override_reason"] = "licence checked on site; code issued in the 2015 pilot"
    assert client.post("/admin/enterprises/new", data=data).status_code == 303
    saved = db.session.scalar(select(Enterprise).where(Enterprise.uscc == BAD_CHECK))
    assert saved.uscc_override_by == ADMIN
    assert "code accepted by override" in client.get(
        f"/admin/outlets?uscc={BAD_CHECK}&lang=en"
    ).get_data(as_text=True)


def test_lists_page_by_keyset_and_regulators_see_only_their_area(client, seeded):
    sign_in(client, ADMIN)
    everything = db.session.scalars(select(Outlet.code)).all()
    first = client.get("/admin/outlets?lang=en").get_data(as_text=True)
    assert all(code in first for code in everything)
    client.post("/logout", data=_csrf(client, "/admin/"))
    sign_in(client, HAIKOU_HANDLER)
    html = client.get("/admin/outlets?lang=en").get_data(as_text=True)
    haikou = db.session.scalars(select(Outlet).where(Outlet.division_code.startswith("4601")))
    sanya = db.session.scalars(select(Outlet).where(Outlet.division_code.startswith("4602")))
    assert all(o.code in html for o in haikou)
    assert not any(o.code in html for o in sanya)
    assert client.get("/admin/import").status_code == 403
    assert client.get("/admin/changes").status_code == 403
    assert client.get("/admin/outlets/new").status_code == 403


def test_paging_walks_every_enterprise_once(client, seeded):
    sign_in(client, SANYA_HANDLER)
    seen = []
    page = queries.enterprise_page(limit=3)
    seen += [e.uscc for e in page.rows]
    while page.next_cursor:
        page = queries.enterprise_page(limit=3, after=page.next_cursor)
        seen += [e.uscc for e in page.rows]
    assert sorted(seen) == sorted(db.session.scalars(select(Enterprise.uscc)))
    assert client.get("/admin/enterprises?after=%%%").status_code == 400


def test_poster_download_is_a_pdf_of_the_area(client, seeded):
    sign_in(client, SANYA_HANDLER)
    response = client.get("/admin/posters.pdf?size=a6&layout=stickers")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert client.get("/admin/posters.pdf?size=b5").status_code == 400
    assert client.get("/admin/posters.pdf?division=469030").status_code == 404


def test_merchants_and_anonymous_users_are_kept_out(client, seeded):
    assert client.get("/admin/outlets").status_code in (302, 401)
    sign_in(client, OWNER)
    assert client.get("/admin/outlets").status_code == 403


def test_owner_adds_and_edits_only_its_own_outlets(client, seeded):
    sign_in(client, OWNER)
    data = _csrf(client, "/merchant/outlets/new")
    data.update(
        name_zh="阿海海鲜夜市档",
        category="catering",
        division_code="460204",
        address="",
        lat="",
        long="",
        reason="night market stall",
    )
    assert client.post("/merchant/outlets/new", data=data).status_code == 303
    outlet = db.session.scalar(select(Outlet).where(Outlet.name_zh == "阿海海鲜夜市档"))
    assert outlet.enterprise.name_en.startswith("Ah Hai")
    change = db.session.scalar(select(AdminChange).where(AdminChange.subject_key == outlet.code))
    assert change.actor == OWNER
    duplicate = client.post("/merchant/outlets/new?lang=en", data=data)
    assert duplicate.status_code == 422
    assert error_for(duplicate.get_data(as_text=True), "name_zh")
    other = db.session.scalar(select(Outlet).where(Outlet.name_en.contains("Jewellery")))
    assert client.get(f"/merchant/outlets/{other.code}/edit").status_code == 404
    pdf = client.get("/merchant/outlets/posters.pdf?size=a4")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")


def test_search_finds_a_whole_code_or_a_name(client, seeded):
    sign_in(client, ADMIN)
    ahhai = db.session.scalar(select(Enterprise).where(Enterprise.name_en.contains("Ah Hai")))
    by_code = client.get(f"/admin/enterprises?q={ahhai.uscc.lower()}").get_data(as_text=True)
    assert by_code.count("data-uscc=") == 1
    assert f'data-uscc="{ahhai.uscc}"' in by_code
    by_name = client.get("/admin/enterprises?q=阿海").get_data(as_text=True)
    assert f'data-uscc="{ahhai.uscc}"' in by_name
    outlet = ahhai.outlets[0]
    found = client.get(f"/admin/outlets?q={outlet.code}").get_data(as_text=True)
    assert found.count("data-code=") == 1
