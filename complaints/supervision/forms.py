from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from complaints.cases.forms import to_e164
from complaints.forms import Form
from complaints.supervision.models import InspectionResult

RESULT_LABELS = {
    InspectionResult.COMPLIANT: _l("Compliant"),
    InspectionResult.RECTIFY: _l("Rectify by a date"),
    InspectionResult.REFER: _l("Refer for a penalty"),
}


class InspectionForm(Form):
    """The inspection; the checklist's boxes are read from the request by their keys."""

    findings = TextAreaField(
        _l("Findings"),
        validators=[DataRequired(_l("Write down what you found.")), Length(max=4000)],
    )
    result = RadioField(
        _l("Result"),
        choices=[SelectChoice(r.value, label) for r, label in RESULT_LABELS.items()],
        validators=[DataRequired(_l("Choose a result."))],
    )
    rectify_by = DateField(_l("Rectify by"), validators=[Optional()])
    photos = MultipleFileField(_l("Photos"))
    open_case = BooleanField(_l("Open a case for the regulator's queue"))
    contact_phone = StringField(
        _l("Your work phone (on record for the case)"), validators=[Length(max=32)]
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Checked here: Optional() ends the field's own chain when the date is empty.
        if self.result.data == InspectionResult.RECTIFY.value and not self.rectify_by.data:
            message = _l("Give the date by which it must be put right.")
            self.rectify_by.errors = [*self.rectify_by.errors, message]
            ok = False
        return ok

    def validate_contact_phone(self, field):
        if self.open_case.data:
            field.data = to_e164(field.data)
