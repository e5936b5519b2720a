from flask_babel import lazy_gettext as _l
from wtforms import EmailField, IntegerField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from complaints.forms import Form
from complaints.hooks_out.services import EVENT_TYPES


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApiKeyForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Name the key.")), Length(max=128)])
    partner = StringField(
        _l("Partner platform (leave empty for a key of this agency)"),
        validators=[Optional(), Length(max=128)],
    )
    scopes = CheckboxesField(
        _l("Scopes"), validators=[DataRequired(_l("Choose at least one scope."))]
    )
    expires_in_days = IntegerField(
        _l("Expires after (days, empty: never)"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
    )


class EndpointForm(Form):
    url = StringField(
        _l("Receiver address (https://…)"),
        validators=[DataRequired(_l("Enter the address.")), Length(max=500)],
    )
    event_types = CheckboxesField(
        _l("Events"),
        choices=[SelectChoice(t, t) for t in EVENT_TYPES],
        validators=[DataRequired(_l("Choose at least one event."))],
    )
    owner_email = EmailField(
        _l("E-mail for failure notices"), validators=[Optional(), Length(max=255)]
    )


class ActionForm(Form):
    """Buttons (revoke, rotate, replay…): only the CSRF token."""
