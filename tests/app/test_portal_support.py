"""Builders shared by the merchant portal tests (this module holds no tests of its own)."""

import io
import re
import secrets
from datetime import datetime

from PIL import Image

from complaints.accounts.seed import DEMO_PASSWORD
from complaints.cases.models import Case
from complaints.cases.services import tracking_key_for
from complaints.cases.workflow import route
from complaints.extensions import db
from tests.app.helpers import file_case, outlet_named
from tests.app_fixtures import hidden_fields

TEST_SECRET = "test-secret-key-not-for-production"  # tests.app_fixtures' SECRET_KEY
AH_HAI = "Ah Hai Seafood Kitchen"  # outlet of the Ah Hai enterprise (answers first)
JEWELLERY = "Yalong Bay Jewellery flagship store"
AH_HAI_OWNER = "owner.ahhai@anxin.demo"
JEWELLERY_OWNER = "owner.jewellery@anxin.demo"


def merchant_case(
    now: datetime, outlet: str = AH_HAI, *, phone: str = "+8613812345678"
) -> tuple[Case, str]:
    """A complaint filed and routed to the merchant (as phone verification would), committed.

    Returns the case and the tourist's tracking key.
    """
    key = secrets.token_urlsafe(24)
    case = file_case(outlet_named(outlet), now=now, key=key, phone=phone)
    route(case, now)
    db.session.commit()
    return case, tracking_key_for(key, TEST_SECRET)


def sign_in(client, email: str, password: str = DEMO_PASSWORD) -> None:
    page = client.get("/login")
    data = hidden_fields(page.get_data(as_text=True))
    data.update(email=email, password=password)
    response = client.post("/login", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)


def csrf(client, path: str = "/merchant/") -> str:
    page = client.get(path).get_data(as_text=True)
    tokens = [v for k, v in hidden_fields(page).items() if k.endswith("csrf_token")]
    if not tokens:
        tokens = re.findall(r'name="[\w-]*csrf_token" value="([^"]+)"', page)
    assert tokens, f"no CSRF token on {path}"
    return tokens[0]


def act(client, number: str, trigger: str, **fields):
    """Post one action form as the case page renders it: prefixed fields and the token."""
    token = csrf(client, f"/merchant/cases/{number}")
    data = {f"{trigger}-csrf_token": token}
    data.update({f"{trigger}-{name}": value for name, value in fields.items()})
    return client.post(f"/merchant/cases/{number}/actions/{trigger}?lang=en", data=data)


def photo(colour=(200, 30, 30)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    out.seek(0)
    return out


def stage(client, number: str, kind: str = "receipt", colour=(200, 30, 30), note: str = ""):
    token = csrf(client, f"/merchant/cases/{number}")
    return client.post(
        f"/merchant/cases/{number}/evidence?lang=en",
        data={
            "csrf_token": token,
            "kind": kind,
            "note": note,
            "file": (photo(colour), f"{kind}.jpg"),
        },
        content_type="multipart/form-data",
    )


def as_tourist(client, method: str, url: str, **kwargs):
    """A request in an app context of its own.

    Tests run inside one pushed app context, which every request would otherwise reuse, and
    Flask-Login and Flask-WTF cache the signed-in user and the CSRF token on its `g`: a
    second client (the tourist beside the merchant) would inherit both.
    """
    with client.application.app_context():
        return getattr(client, method)(url, **kwargs)


def tracking_page(client, tracking_key: str) -> str:
    return as_tourist(client, "get", f"/t/{tracking_key}?lang=en").get_data(as_text=True)


def tourist_post(client, tracking_key: str, path: str, **fields):
    """A POST from the tracking page's panel, with the token the page carries."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', tracking_page(client, tracking_key))
    data = {"csrf_token": token.group(1), **fields}
    return as_tourist(client, "post", f"/t/{tracking_key}/{path}?lang=en", data=data)


def reload(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)
