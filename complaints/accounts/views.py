"""Staff sign-in and sign-out. Thin: parse the form, ask the service, remember the session."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from complaints.accounts.forms import LoginForm, LogoutForm, UnlockForm
from complaints.accounts.mail import queue_account_link
from complaints.accounts.models import Account
from complaints.accounts.services import (
    LOGIN_REFUSED,
    account_by_email,
    authenticate,
    clear_throttles,
    end_all_sessions,
)
from complaints.accounts.unlock import account_for_unlock
from complaints.database import utcnow
from complaints.extensions import db, limiter
from complaints.outbox.services import after_commit

bp = Blueprint("accounts", __name__)

DEFAULT_LOGIN_RATE_LIMIT = "10 per minute"


SESSION_GENERATION = "account_generation"


def load_account(account_id: str) -> Account | None:
    """Flask-Login's user loader: the session holds the account id and the generation it was
    opened in. Sign-out, a new password or disabling moves the account's generation on, so
    every older session (a copied cookie too) stops here."""
    try:
        account = db.session.get(Account, int(account_id))
    except (TypeError, ValueError, OverflowError):
        return None
    if account is None or not account.active:
        return None
    if session.get(SESSION_GENERATION) != account.session_generation:
        return None
    return account


def _login_rate_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT", DEFAULT_LOGIN_RATE_LIMIT)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: `next` must never send a fresh session to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _landing(account: Account) -> str:
    if account.role.is_inspector:
        return url_for("supervision.home")
    return url_for("console.queue" if account.role.is_regulator else "portal.merchant.dashboard")


def _new_session() -> None:
    """Nothing planted in the session before sign-in (or left after sign-out) survives it.

    Flask-WTF caches the request's CSRF token on `g`; it belongs to the old session, so it goes
    too, or a page rendered later in the same app context would carry a token the new session
    cannot check.
    """
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_landing(current_user))
        form.next.data = _safe_next(request.args.get("next")) or ""
        return render_template("console/login.html", form=form, refused=False)
    if not form.validate_on_submit():
        return render_template("console/login.html", form=form, refused=False), 422
    result = authenticate(
        form.email.data, form.password.data, utcnow(), client=request.remote_addr or "-"
    )
    if not result.ok:
        return _refused(form)
    _new_session()
    login_user(result.account)
    session[SESSION_GENERATION] = result.account.session_generation
    flash(_("Signed in as %(name)s.", name=result.account.name), "success")
    return redirect(_safe_next(form.next.data) or _landing(result.account), code=303)


def _refused(form):
    unlock = UnlockForm(formdata=None, email=form.email.data)
    return render_template(
        "console/login.html", form=form, refused=LOGIN_REFUSED, unlock_form=unlock
    ), 401


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            end_all_sessions(current_user.id)  # copies of the cookie end too
            db.session.commit()
        logout_user()
        _new_session()
        flash(_("You have signed out."), "success")
    return redirect(url_for("accounts.login"), code=303)


@bp.post("/login/unlock")
@limiter.limit(_login_rate_limit)
def ask_unlock():
    """Always the same answer, whether or not the address has an account."""
    form = UnlockForm()
    if form.validate_on_submit():
        account = account_by_email(form.email.data)
        if account is not None and account.active:
            queue_account_link(account, "unlock")
            db.session.commit()
            after_commit()
        flash(
            _(
                "If this address has an account, we sent it a link that ends the wait. "
                "It works for one hour."
            ),
            "success",
        )
    return redirect(url_for("accounts.login"), code=303)


@bp.get("/login/unlock/<token>")
def unlock(token: str):
    account = account_for_unlock(token, current_app.config["SECRET_KEY"])
    if account is None:
        abort(404, description=_("This unlock link is damaged or out of date. Ask for a new one."))
    clear_throttles(account.id)
    db.session.commit()
    flash(_("Signing in works again from every place. Sign in now."), "success")
    return redirect(url_for("accounts.login"), code=303)
