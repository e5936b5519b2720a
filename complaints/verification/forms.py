"""The "find my complaint" forms: case number and phone, then the code sent by SMS."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, ValidationError

from complaints.cases.forms import to_e164
from complaints.forms import Form

CASE_NUMBER = re.compile(r"^HN-\d{6}-\d{8}-\d{6}$")


class FindCaseForm(Form):
    number = StringField(
        _l("Case number"),
        validators=[DataRequired(_l("Enter the case number from your text message."))],
        filters=[lambda value: (value or "").strip().upper()],
    )
    phone = StringField(
        _l("Mobile phone number"),
        validators=[DataRequired(_l("Enter the phone number you complained with."))],
    )
    phone_e164 = ""

    def validate_number(self, field):
        if not CASE_NUMBER.match(field.data or ""):
            raise ValidationError(_l("A case number looks like HN-460200-20261204-000123."))

    def validate_phone(self, field):
        self.phone_e164 = to_e164(field.data)


class RecoveryCodeForm(FindCaseForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(_l("Enter the 6-digit code from the text message."))]
    )
