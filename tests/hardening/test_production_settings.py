"""Issue 11.14 (production refuses weak settings) and 11.11 (limits keyed on the real client)."""

import pytest

from complaints.config import ConfigError, load_config
from tests.hardening.support import variant_app

GOOD = {
    "ANXIN_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "QR_SIGNING_KEY": "q" * 40,
    "DATABASE_URL": "postgresql://db/anxin",
    "PUBLIC_BASE_URL": "https://anxin.example",
}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SECRET_KEY": "short-secret"}, "SECRET_KEY"),
        ({"QR_SIGNING_KEY": "q" * 20}, "QR_SIGNING_KEY"),
        ({"PUBLIC_BASE_URL": "http://anxin.example"}, "https://"),
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES"),
    ],
)
def test_production_refuses_weak_settings(tmp_path, change, named):
    with pytest.raises(ConfigError, match=named):
        load_config(str(tmp_path), {**GOOD, **change})


def test_development_still_accepts_short_keys_and_http(tmp_path):
    config = load_config(str(tmp_path), {"SECRET_KEY": "dev", "PUBLIC_BASE_URL": "http://x"})
    assert config["SECRET_KEY"] == "dev"


def test_limits_key_on_the_forwarded_client_only_behind_trusted_proxies(app, seeded, tmp_path):
    def statuses(other, forwarded_for):
        client = other.test_client()
        proxy = {"REMOTE_ADDR": "10.0.0.1"}  # the load balancer
        return [
            client.post(
                "/login",
                data={"email": "nobody@anxin.demo", "password": "wrong"},
                environ_base=proxy,
                headers={"X-Forwarded-For": ip},
            ).status_code
            for ip in forwarded_for
        ]

    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_RATE_LIMIT": "2 per minute",
        "WTF_CSRF_ENABLED": False,
    }
    tourists = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]
    with variant_app(app, tmp_path, TRUSTED_PROXIES=1, **settings) as behind_lb:
        assert 429 not in statuses(behind_lb, tourists)
    with variant_app(app, tmp_path, TRUSTED_PROXIES=0, **settings) as direct:
        # Without the setting a client cannot pick its own address with the header.
        assert statuses(direct, tourists)[-1] == 429


def test_sms_country_policy_is_parsed_and_checked(tmp_path):
    config = load_config(str(tmp_path), {"SMS_ALLOWED_COUNTRY_CODES": "86, +852,44"})
    assert config["SMS_ALLOWED_COUNTRY_CODES"] == frozenset({86, 852, 44})
    assert load_config(str(tmp_path), {})["SMS_ALLOWED_COUNTRY_CODES"] == frozenset()
    with pytest.raises(ConfigError, match="SMS_ALLOWED_COUNTRY_CODES"):
        load_config(str(tmp_path), {"SMS_ALLOWED_COUNTRY_CODES": "China"})
