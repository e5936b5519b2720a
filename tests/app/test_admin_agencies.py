"""Agencies and routing rules on the admin screens: audited edits, the preview, and the
warning for divisions from which a complaint would reach no agency."""

from sqlalchemy import select

from complaints.admin.models import AdminChange
from complaints.agencies.models import Agency, RoutingRule
from complaints.extensions import db
from tests.app.test_admin_screens import ADMIN, _csrf
from tests.app.test_console_support import sign_in


def test_admin_creates_and_edits_an_agency(client, seeded):
    sign_in(client, ADMIN)
    data = _csrf(client, "/admin/agencies/new")
    data.update(
        slug="amr-460203-taxi",
        name_zh="吉阳区出租车管理所",
        name_en="Jiyang taxi office",
        division_code="460203",
        notify_email="duty@taxi.example.cn",
        reason="pilot",
    )
    assert client.post("/admin/agencies/new", data=data).status_code == 303
    again = client.post("/admin/agencies/new?lang=en", data=data)
    assert again.status_code == 422
    assert "already has this short name" in again.get_data(as_text=True)
    edit = _csrf(client, "/admin/agencies/amr-460203-taxi/edit")
    edit.update({**data, "notify_email": "bad", "reason": "new inbox"})
    assert client.post("/admin/agencies/amr-460203-taxi/edit", data=edit).status_code == 422
    edit["notify_email"] = "night@taxi.example.cn"
    assert client.post("/admin/agencies/amr-460203-taxi/edit", data=edit).status_code == 303
    change = db.session.scalar(
        select(AdminChange).where(
            AdminChange.subject_type == "agency", AdminChange.action == "update"
        )
    )
    assert change.before == {"notify_email": "duty@taxi.example.cn"}
    assert change.reason == "new inbox"


def test_rule_editor_preview_and_unrouted_warning(client, seeded):
    sign_in(client, ADMIN)
    page = client.get("/admin/routing?lang=en&division=460203&category=transport")
    html = page.get_data(as_text=True)
    sanya = db.session.scalar(select(Agency).where(Agency.slug == "amr-460200"))
    assert f"complaint in Jiyang District goes to {sanya.name_en}" in html
    assert 'id="unrouted"' not in html
    data = _csrf(client, "/admin/routing")
    haikou = db.session.scalar(select(Agency).where(Agency.slug == "amr-460100"))
    data.update(
        division_code="460203",
        category="transport",
        agency=haikou.slug,
        note="test",
        reason="taxi pilot",
    )
    assert client.post("/admin/routing/rules", data=data).status_code == 303
    html = client.get("/admin/routing?lang=en&division=460203&category=transport").get_data(
        as_text=True
    )
    assert f"goes to {haikou.name_en}" in html
    rule_id = db.session.scalar(select(RoutingRule.id).where(RoutingRule.note == "test"))
    remove = _csrf(client, "/admin/routing")
    remove["reason"] = "pilot over"
    assert client.post(f"/admin/routing/rules/{rule_id}/remove", data=remove).status_code == 303
    assert db.session.get(RoutingRule, rule_id) is None
    actions = db.session.scalars(
        select(AdminChange.action).where(AdminChange.subject_type == "routing_rule")
    ).all()
    assert sorted(actions) == ["create", "delete"]
    # A county whose bureau is gone: complaints there would reach no one.
    db.session.delete(db.session.scalar(select(Agency).where(Agency.division_code == "469030")))
    db.session.commit()
    html = client.get("/admin/routing?lang=en").get_data(as_text=True)
    assert 'id="unrouted"' in html
    assert "469030" in html
