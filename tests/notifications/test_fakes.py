"""The fakes as the application tests will use them, against a minimal Flask webhook app."""

import threading

import pytest
from flask import Flask, abort, request
from werkzeug.serving import make_server

from notifications import OutgoingMessage
from notifications.twilio_client import make_client
from notifications.twilio_sms import TwilioSMS
from notifications.twilio_webhooks import is_valid_twilio_request, messaging_reply, normalise_status
from tests.fakes.twilio_server import send_inbound_sms, send_status_callback

PUBLIC_BASE = "https://anxin.example"  # what Twilio calls; TLS ends before the app


def webhook_app(auth_token):
    app = Flask(__name__)
    app.config["received"] = []

    def check_signature():
        url = PUBLIC_BASE + request.full_path.rstrip("?")
        signature = request.headers.get("X-Twilio-Signature")
        if not is_valid_twilio_request(auth_token, url, request.form, signature):
            abort(403)

    @app.post("/twilio/status/<reference>")
    def status(reference):
        check_signature()
        form = request.form
        app.config["received"].append(
            (reference, normalise_status(form["MessageStatus"]), form.get("ErrorCode"))
        )
        return "", 204

    @app.post("/twilio/inbound")
    def inbound():
        check_signature()
        return messaging_reply(f"收到: {request.form['Body']}"), 200, {"Content-Type": "text/xml"}

    return app


@pytest.fixture
def app(fake_twilio):
    return webhook_app(fake_twilio.auth_token)


@pytest.fixture
def sent_sid(fake_twilio):
    with TwilioSMS(fake_twilio.settings()) as sms:
        receipt = sms.send(
            OutgoingMessage(
                channel="sms",
                to="+8613800138000",
                body="hi",
                status_callback_url=f"{PUBLIC_BASE}/twilio/status/m-7",
            )
        )
    return receipt.provider_message_id


def test_fake_reports_delivery_through_a_test_client(fake_twilio, app, sent_sid):
    webhook = fake_twilio.send_status_callback(sent_sid, "delivered", client=app.test_client())
    assert webhook.response.status_code == 204
    assert app.config["received"] == [("m-7", "delivered", None)]
    assert webhook.params["To"] == "+8613800138000"
    assert webhook.params["From"] == "+15005550006"
    assert fake_twilio.message(sent_sid).status == "delivered"


def test_failed_delivery_carries_an_error_code(fake_twilio, app, sent_sid):
    fake_twilio.send_status_callback(sent_sid, "undelivered", client=app.test_client())
    fake_twilio.send_status_callback(sent_sid, "failed", app.test_client(), error_code=21610)
    assert app.config["received"] == [("m-7", "failed", "30003"), ("m-7", "failed", "21610")]


def test_fake_reports_delivery_over_real_http(fake_twilio, app, sent_sid):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        local = f"http://127.0.0.1:{server.port}/twilio/status/m-7"
        # Signed for the public URL, posted to the local server, as behind a TLS proxy.
        webhook = send_status_callback(
            local, sent_sid, "sent", fake_twilio.auth_token, url=f"{PUBLIC_BASE}/twilio/status/m-7"
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert webhook.response.status_code == 204
    assert app.config["received"] == [("m-7", "sent", None)]


def test_signature_for_another_url_or_token_is_refused(fake_twilio, app, sent_sid):
    client = app.test_client()
    url = f"{PUBLIC_BASE}/twilio/status/m-7"
    signed = send_status_callback(client, sent_sid, "delivered", fake_twilio.auth_token, url=url)
    assert signed.response.status_code == 204
    replayed = client.post("/twilio/status/m-8", data=signed.params, headers=signed.headers)
    assert replayed.status_code == 403
    forged = send_status_callback(client, sent_sid, "failed", "wrong-token", url=url)
    assert forged.response.status_code == 403
    assert app.config["received"] == [("m-7", "delivered", None)]


def test_inbound_sms_gets_a_twiml_reply(fake_twilio, app):
    webhook = send_inbound_sms(
        app.test_client(),
        "+8613800138000",
        "进度?",
        fake_twilio.auth_token,
        url=f"{PUBLIC_BASE}/twilio/inbound",
    )
    assert webhook.response.status_code == 200
    assert "<Message>收到: 进度?</Message>" in webhook.response.get_data(as_text=True)


def test_test_client_needs_the_public_url(app):
    with pytest.raises(ValueError, match="public `url`"):
        send_status_callback(app.test_client(), "SM1", "sent")


def test_sdk_can_fetch_a_message_back(fake_twilio, sent_sid):
    client = make_client(fake_twilio.settings())
    fetched = client.messages(sent_sid).fetch()
    assert (fetched.sid, fetched.status, fetched.body) == (sent_sid, "queued", "hi")
    client.http_client.session.close()


def test_reset_forgets_everything(fake_twilio, sent_sid):
    fake_twilio.fail_next(500)
    fake_twilio.reset()
    assert fake_twilio.messages == fake_twilio.requests == []
    with TwilioSMS(fake_twilio.settings()) as sms:
        sms.send(OutgoingMessage(channel="sms", to="+8613800138000", body="again"))
