"""Issue 11.7 from the command line: disabling or a new password ends every session."""

from tests.app.test_accounts import post_login
from tests.hardening.test_signin_and_sessions import _copied_cookie_works

HANDLER = "handler.sanya@anxin.demo"


def test_cli_disable_and_set_password_end_sessions(app, client, runner, seeded):
    assert post_login(client).status_code == 303
    cookie = client.get_cookie("session").value
    result = runner.invoke(
        args=["accounts", "set-password", "--email", HANDLER, "--password", "another long one 26"]
    )
    assert result.exit_code == 0, result.output
    assert not _copied_cookie_works(app, cookie)
    assert post_login(client, password="another long one 26").status_code == 303
    cookie = client.get_cookie("session").value
    result = runner.invoke(args=["accounts", "disable", "--email", HANDLER])
    assert result.exit_code == 0
    assert "sessions have ended" in result.output
    assert not _copied_cookie_works(app, cookie)
    assert runner.invoke(args=["accounts", "disable", "--email", "x@y.z"]).exit_code != 0
