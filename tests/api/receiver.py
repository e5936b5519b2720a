"""A webhook receiver as a partner would write one: the `standardwebhooks` library verifies
every delivery; it can be taken down (503) to simulate an outage."""

import json
import threading
from contextlib import contextmanager

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None
        self.down = False
        self.received: list[dict] = []  # verified deliveries, in arrival order
        self.rejected = 0
        self.url = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        if self.down:
            return Response("down", status=503)(environ, start_response)
        body = request.get_data(as_text=True)
        try:
            payload = Webhook(self.secret).verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.rejected += 1
            return Response("bad signature", status=400)(environ, start_response)
        self.received.append(
            {"id": request.headers["webhook-id"], "payload": payload, "raw": json.loads(body)}
        )
        return Response("", status=204)(environ, start_response)


@contextmanager
def running_receiver():
    receiver = Receiver()
    server = make_server("127.0.0.1", 0, receiver, threaded=True)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        thread.join(timeout=5)
