"""The tourist's complaint form: every error says which field and what was wrong."""

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import phonenumbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from complaints.cases.models import Remedy
from complaints.categories import Category
from complaints.clock import local_today
from complaints.languages import LANGUAGE_NAMES

MAX_AMOUNT = Decimal("10000000.00")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
SUBMISSION_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
TIME_BAR_YEARS = 3  # SAMR Art. 15(4): more than 3 years after the harm is not accepted

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
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ComplaintForm(FlaskForm):
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
        validators=[InputRequired(_l("Enter the date it happened."))],
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

    def validate_occurred_on(self, field):
        today = local_today()
        if field.data > today + timedelta(days=1):
            raise ValidationError(_l("The date cannot be in the future."))
        if field.data < today.replace(year=today.year - TIME_BAR_YEARS):
            raise ValidationError(
                _l(
                    "A complaint more than 3 years after you knew of the harm cannot be accepted (SAMR Order 20, Art. 15)."
                )
            )

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
