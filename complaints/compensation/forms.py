"""Small forms for the fund console and the tourist's request; CSRF on every one."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from complaints.cases.forms import MoneyField

MAX_REASON = 2000


class ReasonForm(FlaskForm):
    """Approve, reject or deduct: a fund manager always says why."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Say why: it is kept on the claim's record.")),
            Length(max=MAX_REASON),
        ],
    )


class ReferenceForm(FlaskForm):
    """A bank transfer reference: the payout made, or the merchant's repayment received."""

    reference = StringField(
        _l("Bank transfer reference"),
        validators=[DataRequired(_l("Enter the reference on the bank slip.")), Length(max=96)],
    )


class EmptyForm(FlaskForm):
    """A button: only the CSRF token."""


class AskForm(FlaskForm):
    amount = MoneyField(_l("Amount (CNY)"), validators=[DataRequired(_l("Enter an amount."))])
