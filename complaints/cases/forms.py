"""The tourist's complaint form: every error says which field and what was wrong."""

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from complaints.cases.models import Remedy
from complaints.categories import Category
from complaints.clock import local_today
from complaints.database import utcnow
from complaints.forms import Form
from complaints.languages import LANGUAGE_NAMES
from workflows.deadlines import is_contract_barred, is_time_barred
from workflows.policy import Policy

MAX_AMOUNT = Decimal("10000000.00")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
SUBMISSION_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

REMEDY_LABELS = {
    Remedy.REFUND: _l("Full refund"),
    Remedy.PARTIAL_REFUND: _l("Partial refund"),
    Remedy.REPLACEMENT: _l("Replacement or redo the service"),
    Remedy.COMPENSATION: _l("Compensation"),
    Remedy.APOLOGY: _l("An apology"),
    Remedy.OTHER: _l("Other"),
}


def parse_money(raw: str | None, field_label) -> Decimal:
    text = (raw or "").strip().replace(",", "").replace("¥", "").replace("￥", "")
    if not text:
        return Decimal("0.00")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationError(_l("Enter an amount in yuan, like 128.50.")) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(_l("Enter an amount of zero or more, like 128.50."))
    if amount.as_tuple().exponent < -2:
        raise ValidationError(_l("Use at most two decimals (fen)."))
    if amount > MAX_AMOUNT:
        raise ValidationError(_l("That is more than ¥10,000,000; check the amount."))
    return amount.quantize(Decimal("0.01"))


class MoneyField(StringField):
    """CNY with at most two decimals, kept as typed when the form is shown again."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.amount = Decimal("0.00")

    def pre_validate(self, form):
        self.amount = parse_money(self.data, self.label.text)


def to_e164(raw: str | None) -> str:
    try:
        number = phonenumbers.parse((raw or "").strip(), "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _l(
                "Enter a mobile number; add the country code if it is not Chinese, e.g. +44 7911 123456."
            )
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _l("This is not a valid phone number; add the country code if it is not Chinese.")
        )
    _check_sms_policy(number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


TEXTABLE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def _check_sms_policy(number) -> None:
    """SMS pumping (issue 11.8): we text only mobile numbers (never premium-rate, shared-cost
    or other paid ranges), of the calling codes the deployment allows."""
    if phonenumbers.number_type(number) not in TEXTABLE_TYPES:
        raise ValidationError(
            _l("Enter a mobile number: we send your case link and code by text message.")
        )
    allowed = current_app.config.get("SMS_ALLOWED_COUNTRY_CODES") or frozenset()
    if allowed and number.country_code not in allowed:
        raise ValidationError(
            _l(
                "We cannot send text messages to +%(code)d numbers. Enter a Chinese mobile number or one from another country we serve.",
                code=number.country_code,
            )
        )


class ComplaintForm(Form):
    submission_key = HiddenField()
    outlet_code = SelectField(_l("Which outlet"), choices=[], validate_choice=False)
    category = SelectField(
        _l("What kind of business"),
        choices=[SelectChoice(c.value, c.label) for c in Category],
        validators=[InputRequired(_l("Choose a category."))],
    )
    description = TextAreaField(
        _l("What happened"),
        validators=[
            DataRequired(_l("Tell us what happened.")),
            Length(min=10, max=4000, message=_l("Write between 10 and 4000 characters.")),
        ],
    )
    occurred_on = DateField(
        _l("When did it happen"),
        # Year first only: 04/12/2026 is April in one country and December in another.
        format=["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"],
        validators=[InputRequired(_l("Enter the date it happened."))],
    )
    harm_known_on = DateField(
        _l("When you found out about the harm, if later"), validators=[Optional()]
    )
    contract_ended_on = DateField(
        _l("For a package tour: the day the tour contract ended"), validators=[Optional()]
    )
    amount_paid = MoneyField(_l("Amount paid (CNY)"))
    amount_claimed = MoneyField(_l("Amount you ask for (CNY)"))
    remedy = SelectField(
        _l("What would put it right"),
        choices=[SelectChoice(r.value, label) for r, label in REMEDY_LABELS.items()],
        validators=[InputRequired(_l("Choose what you ask for."))],
    )
    evidence = MultipleFileField(_l("Photos (receipt, goods, price tags)"))
    tourist_name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Enter your name.")), Length(max=64)],
    )
    phone = StringField(
        _l("Mobile number"), validators=[DataRequired(_l("Enter your mobile number."))]
    )
    tourist_address = StringField(
        _l("Your address (optional)"), validators=[Optional(), Length(max=255)]
    )
    first_answer = RadioField(
        _l("Who answers first"),
        choices=[
            SelectChoice("merchant", _l("Let the merchant answer first")),
            SelectChoice("regulator", _l("Send it straight to the regulator")),
        ],
        default="merchant",
    )
    language = SelectField(
        _l("Language for messages"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
    )
    email = StringField(
        _l("E-mail (optional)"),
        validators=[Optional(), Length(max=254)],
        filters=[lambda value: (value or "").strip() or None],
    )
    contact_consent = BooleanField(_l("The merchant may see my name and full number to contact me"))

    def validate_submission_key(self, field):
        if not SUBMISSION_KEY_PATTERN.match(field.data or ""):
            raise ValidationError(_l("This form is damaged; reload the page."))

    # The view sets these: the time limits for the chosen category, and the calendar.
    policy_for = staticmethod(lambda category: Policy())
    calendar = None

    def validate_occurred_on(self, field):
        if field.data is None:  # typed, but not a date we can read
            field.errors[:] = []
            raise StopValidation(_l("Enter the date as year-month-day, for example 2026-12-03."))
        if field.data > local_today(utcnow()) + timedelta(days=1):
            raise ValidationError(_l("The date cannot be in the future."))

    def validate_harm_known_on(self, field):
        if field.data is None:
            return
        if field.data > local_today(utcnow()) + timedelta(days=1):
            raise ValidationError(_l("The date cannot be in the future."))
        if self.occurred_on.data and field.data < self.occurred_on.data:
            raise ValidationError(_l("You cannot have found out before it happened."))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not valid or self.calendar is None:
            return valid
        now = utcnow()
        policy = self.policy_for(self.category.data)
        known = self.harm_known_on.data or self.occurred_on.data
        if is_time_barred(known, now, policy, self.calendar):
            target = self.harm_known_on if self.harm_known_on.data else self.occurred_on
            target.errors = [
                *target.errors,
                _l(
                    "More than %(years)d years have passed since you knew of the harm: the regulator cannot accept this complaint (SAMR Order 20, Art. 15).",
                    years=policy.complaint_time_bar_years,
                ),
            ]
            valid = False
        ended = self.contract_ended_on.data
        if ended is not None and is_contract_barred(ended, now, policy, self.calendar):
            self.contract_ended_on.errors = [
                *self.contract_ended_on.errors,
                _l(
                    "A tour complaint must be made within %(days)d days after the contract ended.",
                    days=policy.contract_filing_bar_days,
                ),
            ]
            valid = False
        return valid

    def validate_amount_claimed(self, field):
        if field.amount == 0 and self.remedy.data == Remedy.REFUND:
            # The default remedy asks for no figure: a full refund is what was paid.
            field.amount = self.amount_paid.amount
            return
        if field.amount == 0 and self.remedy.data in (Remedy.PARTIAL_REFUND, Remedy.COMPENSATION):
            raise ValidationError(_l("Enter how much you ask for."))

    def validate_email(self, field):
        if field.data and not EMAIL.match(field.data):
            raise ValidationError(
                _l("Enter an e-mail address like name@example.com, or leave it empty.")
            )

    def validate_phone(self, field):
        self.phone_e164 = to_e164(field.data)
