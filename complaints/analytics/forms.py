from datetime import timedelta

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional, ValidationError

from complaints.forms import Form

MAX_DAYS = 366


class AnalyticsFilterForm(Form):
    """GET filters of the analytics page: no CSRF, nothing changes."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    category = SelectField(_l("Category"), choices=[], default="")
    division = SelectField(_l("District"), choices=[], default="")
    scope = SelectField(
        _l("View"),
        choices=[SelectChoice("agency", _l("My agency")), SelectChoice("province", _l("Province"))],
        default="agency",
    )

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_l("The end date comes before the start date."))
            if field.data - self.start.data > timedelta(days=MAX_DAYS):
                raise ValidationError(_l("Choose at most %(n)d days.", n=MAX_DAYS))
