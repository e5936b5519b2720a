"""Admin forms. Cell rules are the import's (complaints.admin.validators): one set of rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from complaints.admin import validators
from complaints.admin.outlet_import import LATITUDE, LONGITUDE
from complaints.categories import Category
from complaints.forms import Form


def _cell(parse):
    """A WTForms validator from an import cell parser; stores the parsed value on the field."""

    def check(form, field):
        field.parsed = None
        if not (field.data or "").strip():
            return
        try:
            field.parsed = parse(field.data)
        except validators.CellInvalid as invalid:
            raise ValidationError(str(invalid.args[0])) from None

    return check


def _coordinate(low, high):
    return _cell(lambda raw: validators.coordinate(raw, low=low, high=high))


REASON = _l("Why (kept in the audit log)")


class OutletForm(Form):
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=128)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=160)])
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice(c.value, c.label) for c in Category],
        validators=[InputRequired(_l("Choose a category."))],
    )
    division_code = SelectField(
        _l("Administrative division"), validators=[InputRequired(_l("Choose a division."))]
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    lat = StringField(_l("Latitude"), validators=[_coordinate(*LATITUDE)])
    long = StringField(_l("Longitude"), validators=[_coordinate(*LONGITUDE)])
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])

    def validate_long(self, field):
        if (getattr(self.lat, "parsed", None) is None) != (getattr(field, "parsed", None) is None):
            raise ValidationError(_l("Give both latitude and longitude, or neither."))

    def values(self) -> dict:
        return {
            "name_zh": self.name_zh.data.strip(),
            "name_en": (self.name_en.data or "").strip(),
            "category": Category(self.category.data),
            "division_code": self.division_code.data,
            "address": (self.address.data or "").strip(),
            "latitude": self.lat.parsed,
            "longitude": self.long.parsed,
        }


class AdminOutletForm(OutletForm):
    uscc = StringField(_l("Enterprise code (USCC)"), validators=[DataRequired(), Length(max=40)])


class EnterpriseForm(Form):
    uscc = StringField(
        _l("Unified Social Credit Code"), validators=[DataRequired(), Length(max=40)]
    )
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=128)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=160)])
    division_code = SelectField(
        _l("Administrative division"), validators=[InputRequired(_l("Choose a division."))]
    )
    contact_phone = StringField(_l("Contact phone"), validators=[_cell(validators.phone)])
    contact_email = StringField(_l("Contact e-mail"), validators=[_cell(validators.email)])
    answers_first = BooleanField(_l("Answers complaints first (online dispute resolution)"))
    notify_language = SelectField(
        _l("Notification language"),
        choices=[SelectChoice("zh", "中文"), SelectChoice("en", "English")],
    )
    uscc_override_reason = TextAreaField(
        _l("Accept a code whose check character is wrong, because"),
        validators=[Optional(), Length(max=500)],
    )
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])

    def validate_uscc(self, field):
        override = (self.uscc_override_reason.data or "").strip() or None
        try:
            field.parsed = validators.uscc(field.data, override_reason=override)
        except validators.CellInvalid as invalid:
            raise ValidationError(str(invalid.args[0])) from None

    def values(self) -> dict:
        return {
            "name_zh": self.name_zh.data.strip(),
            "name_en": (self.name_en.data or "").strip(),
            "division_code": self.division_code.data,
            "contact_phone": self.contact_phone.parsed,
            "contact_email": self.contact_email.parsed,
            "answers_first": bool(self.answers_first.data),
            "notify_language": self.notify_language.data,
            "uscc_override_reason": (self.uscc_override_reason.data or "").strip() or None,
        }


class ImportForm(Form):
    kind = SelectField(
        _l("What the file holds"),
        choices=[
            SelectChoice("enterprises", _l("Enterprises")),
            SelectChoice("outlets", _l("Outlets")),
        ],
    )
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Upload a .csv or .xlsx file.")),
        ],
    )
    dry_run = BooleanField(_l("Check only (change nothing)"))
    all_or_nothing = BooleanField(_l("Import nothing if any row is rejected"))
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])


class AgencyForm(Form):
    slug = StringField(
        _l("Short name (letters, digits, hyphens)"),
        validators=[
            DataRequired(),
            Length(min=3, max=48),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lower-case letters, digits and -.")),
        ],
    )
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=128)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=160)])
    division_code = SelectField(
        _l("Administrative division"), validators=[InputRequired(_l("Choose a division."))]
    )
    notify_email = StringField(_l("Duty inbox (e-mail)"), validators=[_cell(validators.email)])
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])

    def values(self) -> dict:
        return {
            "name_zh": self.name_zh.data.strip(),
            "name_en": self.name_en.data.strip(),
            "division_code": self.division_code.data,
            "notify_email": self.notify_email.parsed,
        }


ANY = SelectChoice("", _l("Any"))


class RoutingRuleForm(Form):
    division_code = SelectField(_l("Administrative division"), validate_choice=True)
    category = SelectField(
        _l("Category"), choices=[ANY, *[SelectChoice(c.value, c.label) for c in Category]]
    )
    agency = SelectField(_l("Goes to"), validators=[InputRequired(_l("Choose an agency."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])


class RemoveRuleForm(Form):
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])


class PreviewForm(Form):
    class Meta:
        csrf = False  # a GET question that changes nothing

    division = SelectField(_l("Administrative division"))
    category = SelectField(
        _l("Category"), choices=[SelectChoice(c.value, c.label) for c in Category]
    )


ROLE_LABELS = {
    "handler": _l("Handler"),
    "supervisor": _l("Supervisor"),
    "fund_manager": _l("Fund manager"),
    "admin": _l("Administrator"),
}


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


class InviteStaffForm(Form):
    email = StringField(_l("Email"), validators=[DataRequired(), _cell(validators.email)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    role = SelectField(_l("Role"), choices=_role_choices())
    agency = SelectField(_l("Agency"), validators=[InputRequired(_l("Choose an agency."))])
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])


class StaffRoleForm(Form):
    role = SelectField(_l("Role"), choices=_role_choices())
    agency = SelectField(_l("Agency"), validators=[InputRequired(_l("Choose an agency."))])
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])


class PolicyForm(Form):
    kind = SelectField(
        _l("Policy"),
        choices=[
            SelectChoice("workflow", _l("Time limits (workflow)")),
            SelectChoice("credit", _l("Credit points and grades")),
        ],
    )
    values = TextAreaField(
        _l("Values (JSON, keys as in the installation's policy)"),
        validators=[DataRequired(_l("Enter the values as a JSON object, e.g. {}."))],
    )
    effective_from = DateTimeLocalField(
        _l("In force from (Beijing time)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(_l("Give the time it comes into force."))],
    )
    reason = StringField(REASON, validators=[DataRequired(_l("Say why.")), Length(max=500)])


class CalendarDayForm(Form):
    day = DateField(_l("Day"), validators=[InputRequired(_l("Choose a day."))])
    kind = SelectField(
        _l("The day is"),
        choices=[
            SelectChoice("working", _l("a working day")),
            SelectChoice("off", _l("a day off")),
        ],
    )
    note = StringField(
        _l("Notice it follows (e.g. 国办发明电〔2026〕X号)"),
        validators=[DataRequired(_l("Name the notice.")), Length(max=500)],
    )


class CalendarYearForm(Form):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2020, 2100)])
    note = StringField(
        _l("Notice it follows (e.g. 国办发明电〔2026〕X号)"),
        validators=[DataRequired(_l("Name the notice.")), Length(max=500)],
    )
