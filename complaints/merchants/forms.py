from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from complaints.forms import Form


class MerchantSearchForm(Form):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(
        _l("Merchant name or enterprise code"),
        validators=[DataRequired(_l("Type a name or a code.")), Length(min=2, max=64)],
    )
