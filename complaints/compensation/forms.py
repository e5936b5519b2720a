"""Small forms for the fund console and the tourist's request; CSRF on every one."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from complaints.cases.forms import MoneyField
from complaints.compensation.payee import METHOD_LABELS, PayeeInvalid, parse_payee
from complaints.forms import Form

MAX_REASON = 2000


class ReasonForm(Form):
    """Approve, reject or deduct: a fund manager always says why."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Say why: it is kept on the claim's record.")),
            Length(max=MAX_REASON),
        ],
    )


class ReferenceForm(Form):
    """A bank transfer reference: the payout made, or the merchant's repayment received."""

    reference = StringField(
        _l("Bank transfer reference"),
        validators=[DataRequired(_l("Enter the reference on the bank slip.")), Length(max=96)],
    )


class EmptyForm(Form):
    """A button: only the CSRF token."""


class PayeeForm(Form):
    """Where the fund pays: checked as one (the account's format depends on the method)."""

    payee_method = RadioField(
        _l("Pay me by"),
        choices=[SelectChoice(method.value, label) for method, label in METHOD_LABELS.items()],
        validate_choice=False,  # parse_payee names the field with a clearer message
    )
    payee_account = StringField(_l("Account"), filters=[lambda v: (v or "").strip()])
    payee_name = StringField(_l("Account holder's name"), filters=[lambda v: (v or "").strip()])
    payee = None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        try:
            self.payee = parse_payee(
                self.payee_method.data, self.payee_account.data, self.payee_name.data
            )
        except PayeeInvalid as invalid:
            getattr(self, invalid.field).errors = [invalid.message]
            return False
        return valid


class AskForm(PayeeForm):
    amount = MoneyField(_l("Amount (CNY)"), validators=[DataRequired(_l("Enter an amount."))])
