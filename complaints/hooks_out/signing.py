"""Standard Webhooks signatures: v1 = base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))."""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 — the format's marker, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{msg_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def headers(secrets_in_use: list[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """One signature per secret in use: during a rotation's overlap both verify."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_in_use),
        "content-type": "application/json",
    }
