"""The portal's forms (merchant and tourist), each CSRF-protected by Flask-WTF.

Action forms carry the trigger as their prefix, so several share a page and a re-rendered
page shows the errors next to the action that was tried (as in the regulator console).
"""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from complaints.accounts.services import MIN_PASSWORD_LENGTH
from complaints.cases.forms import MoneyField
from complaints.cases.models import EvidenceKind
from complaints.forms import Form
from complaints.portal.messages import MAX_MESSAGE
from complaints.portal.ratings import MAX_COMMENT

MAX_TEXT = 2000


class RefundForm(Form):
    amount = MoneyField(
        _l("Amount refunded (CNY)"), validators=[DataRequired(_l("Enter the amount you refund."))]
    )


class OfferForm(Form):
    amount = MoneyField(_l("Amount offered (CNY)"), validators=[Optional()])
    terms = TextAreaField(_l("Terms"), validators=[Optional(), Length(max=MAX_TEXT)])

    def validate_terms(self, field):
        if not (self.amount.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Offer an amount, terms, or both."))


class DisputeForm(Form):
    reason = TextAreaField(
        _l("Why you dispute the complaint"),
        validators=[DataRequired(_l("Say why you dispute the complaint.")), Length(max=MAX_TEXT)],
    )


ACTION_FORMS = {
    "merchant_refund": RefundForm,
    "merchant_offer": OfferForm,
    "merchant_dispute": DisputeForm,
}


def action_form(trigger: str) -> Form:
    return ACTION_FORMS[trigger](prefix=trigger)


class StageEvidenceForm(Form):
    kind = SelectField(
        _l("What it is"),
        choices=[],  # filled by the view with translated labels
        validators=[DataRequired(_l("Choose what the file is."))],
    )
    file = FileField(_l("File (photo or screenshot: JPEG, PNG or WebP)"))
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=255)])

    def fill_kinds(self, labels) -> "StageEvidenceForm":
        self.kind.choices = [SelectChoice(kind.value, labels[kind]) for kind in EvidenceKind]
        return self


class EmptyForm(Form):
    """Only the CSRF token: buttons that change something (remove a staged file)."""


class MerchantMessageForm(Form):
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(_l("Write a message first.")), Length(max=MAX_MESSAGE)],
    )
    regulator_only = BooleanField(_l("Only for the regulator (the tourist will not see it)"))


class RotateForm(Form):
    reason = StringField(
        _l("Why replace this code"),
        validators=[DataRequired(_l("Say why the code is replaced.")), Length(max=500)],
    )


def rotate_form(outlet) -> RotateForm:
    # One form per outlet on the page: the prefix keeps their field ids apart.
    return RotateForm(prefix=f"rotate-{outlet.code}")


class InviteForm(Form):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter an email address.")), Length(max=255)]
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the person's name.")), Length(max=128)]
    )


class SetPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=256,
                message=_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
    )


# --- the tourist's forms (the tracking page) -------------------------------------------------


class OfferAnswerForm(Form):
    offer_id = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Why (optional)"), validators=[Optional(), Length(max=MAX_TEXT)])

    @property
    def offer_number(self) -> int | None:
        try:
            return int(self.offer_id.data)
        except (TypeError, ValueError):
            return None


class RatingForm(Form):
    score = RadioField(
        _l("How well was your complaint handled?"),
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        validators=[InputRequired(_l("Choose from 1 to 5 stars."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"), validators=[Optional(), Length(max=MAX_COMMENT)]
    )


class TouristMessageForm(Form):
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(_l("Write a message first.")), Length(max=MAX_MESSAGE)],
    )
