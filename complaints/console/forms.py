"""One small form per workflow action, built from the table row that action fires.

A form carries the action's name as its prefix, so several can share one page and a
re-rendered page shows errors next to the action that was tried.
"""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from complaints.cases.forms import MoneyField
from complaints.categories import Category
from complaints.console.panels import VISIBILITY, VISIBILITY_LABELS
from complaints.console.presenters import GROUND_LABELS
from complaints.console.queries import QueueFilters
from complaints.console.worklist import BULK_ACTIONS, SORTS, TABS
from complaints.forms import Form
from complaints.portal.messages import MAX_MESSAGE
from complaints.presentation import legal_basis_label
from workflows.machine import CASE_TRANSITIONS, Transition
from workflows.states import CaseState

MAX_REASON = 2000

# The table's regulator actions this console fires with a generic form. A trigger added to the
# table later is not offered here until someone decides which fields it needs; merging
# duplicates, for one, fires two triggers on two cases and has its own flow.
CONSOLE_TRIGGERS = frozenset(
    {
        "assign",
        "accept",
        "decline",
        "transfer",
        "take_over",
        "tourist_consents_to_mediation",
        "merchant_consents_to_mediation",
        "entrust_to_association",
        "pause_for_appraisal",
        "resume_after_appraisal",
        "record_agreement",
        "terminate",
        "close",
        "reopen",
    }
)


class ActionForm(Form):
    trigger_name = ""


class QueueFilterForm(Form):
    """GET filters of the queue: no CSRF, nothing changes."""

    class Meta:
        csrf = False

    state = SelectField(_l("State"), choices=[], default="")
    category = SelectField(_l("Category"), choices=[], default="")
    division = SelectField(_l("District"), choices=[], default="")
    merchant = StringField(_l("Merchant name contains"), validators=[Length(max=100)])
    q = StringField(_l("Text or case number"), validators=[Length(max=200)])
    tab = SelectField(
        _l("Tab"), choices=[SelectChoice(k, v) for k, v in TABS.items()], default="all"
    )
    sort = SelectField(
        _l("Sort by"), choices=[SelectChoice(k, v) for k, v in SORTS.items()], default="deadline"
    )
    page = IntegerField(
        _l("Page"),
        validators=[
            Optional(),
            NumberRange(min=1, max=100_000, message=_l("Choose a page from 1.")),
        ],
    )

    def filters(self) -> QueueFilters:
        """The validated choices, as the queue query takes them."""
        return QueueFilters(
            state=CaseState(self.state.data) if self.state.data else None,
            category=Category(self.category.data) if self.category.data else None,
            division=self.division.data or None,
            merchant=(self.merchant.data or "").strip() or None,
            q=(self.q.data or "").strip() or None,
        )


def handler_choices(handlers) -> list[SelectChoice]:
    """Handlers as choices; given (handler, open cases) pairs, each shows its load."""
    choices = []
    for item in handlers:
        handler, load = item if isinstance(item, tuple) else (item, None)
        label = (
            handler.name if load is None else _l("%(name)s (%(n)d open)", name=handler.name, n=load)
        )
        choices.append(SelectChoice(str(handler.id), label))
    return choices


def transition_named(trigger: str) -> Transition | None:
    """The table row behind a console trigger. Rows sharing a trigger ask for the same fields."""
    if trigger not in CONSOLE_TRIGGERS:
        return None
    return next((t for t in CASE_TRANSITIONS if t.trigger == trigger), None)


def action_form(
    transition: Transition,
    *,
    agencies=(),
    handlers=(),
    locale: str = "zh",
    formdata=None,
) -> ActionForm:
    trigger = transition.trigger

    class TriggerForm(ActionForm):
        trigger_name = trigger

    if trigger == "assign":
        TriggerForm.handler = SelectField(
            _l("Handler"), choices=handler_choices(handlers), coerce=str
        )
    if trigger == "transfer":
        TriggerForm.agency = SelectField(
            _l("Transfer to"),
            choices=[SelectChoice(str(a.id), a.name(locale)) for a in agencies],
            coerce=str,
        )
    if trigger == "record_agreement":
        TriggerForm.amount = MoneyField(
            _l("Amount agreed (CNY)"), validators=[DataRequired(_l("Enter the amount agreed."))]
        )
        TriggerForm.terms = TextAreaField(
            _l("Terms of the agreement"),
            validators=[DataRequired(_l("Write down the terms.")), Length(max=MAX_REASON)],
        )
    if transition.ground_type is not None:
        TriggerForm.ground = SelectField(
            _l("Legal ground"),
            choices=[
                SelectChoice("", _l("Choose a ground")),
                *[
                    SelectChoice(g.value, f"{GROUND_LABELS[g]} ({legal_basis_label(g)})")
                    for g in transition.ground_type
                ],
            ],
            validators=[DataRequired(_l("Choose the legal ground."))],
        )
    if trigger != "record_agreement":
        required = [DataRequired(_l("A reason is required for this action."))]
        TriggerForm.reason = TextAreaField(
            _l("Reason") if transition.reason_required else _l("Note (optional)"),
            validators=[
                *(required if transition.reason_required else [Optional()]),
                Length(max=MAX_REASON),
            ],
        )
    kwargs = {} if formdata is None else {"formdata": formdata}
    return TriggerForm(prefix=trigger, **kwargs)


class MessageForm(Form):
    """A regulator's message in the case thread, and who may read it."""

    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(_l("Write a message first.")), Length(max=MAX_MESSAGE)],
    )
    visibility = SelectField(
        _l("Who can read it"),
        choices=[SelectChoice(value, label) for value, label in VISIBILITY_LABELS.items()],
        default="everyone",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="message", **kwargs)

    @property
    def audiences(self):
        return VISIBILITY[self.visibility.data]


class MergeForm(Form):
    """Which of the two flagged cases survives; the other is closed as its copy."""

    keep = StringField(validators=[DataRequired()])


class BulkForm(Form):
    """One action on the ticked cases of the queue page."""

    action = SelectField(
        _l("Action"),
        choices=[SelectChoice("", _l("Choose an action"))]
        + [SelectChoice(k, v) for k, v in BULK_ACTIONS.items()],
        validators=[DataRequired(_l("Choose an action."))],
    )
    handler = SelectField(_l("Handler"), choices=[], validate_choice=False)
    agency = SelectField(_l("Transfer to"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Reason or note"), validators=[Length(max=MAX_REASON)])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        needed = {
            "assign": (self.handler, _l("Choose a handler.")),
            "transfer": (self.agency, _l("Choose an agency.")),
        }
        ok = True
        if self.action.data in needed:
            field, message = needed[self.action.data]
            if not field.data or not field.data.isdigit():
                field.errors = [*field.errors, message]
                ok = False
        if self.action.data in ("transfer", "note") and not (self.note.data or "").strip():
            self.note.errors = [*self.note.errors, _l("A reason is required for this action.")]
            ok = False
        return ok


class SavedFilterForm(Form):
    name = StringField(
        _l("Name of this view"),
        validators=[DataRequired(_l("Give the view a name.")), Length(max=80)],
    )
    query = StringField(validators=[Length(max=1000)])
