"""The staff login form (CSRF-protected like every form, by Flask-WTF)."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from complaints.forms import Form


class LoginForm(Form):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=255)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=256)]
    )
    next = HiddenField()


class LogoutForm(Form):
    """No fields: only the CSRF token, so another site cannot sign a user out."""


class UnlockForm(Form):
    """Ask for the e-mailed link that ends sign-in waits."""

    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email.")), Length(max=255)]
    )
