"""Input and output schemas of the API, separate per direction and per audience."""

from marshmallow import Schema, fields, validate

from complaints.categories import Category
from workflows.states import CaseState, CompensationState


def _enum(enum_cls, **kwargs):
    return fields.String(validate=validate.OneOf([m.value for m in enum_cls]), **kwargs)


class PageQuery(Schema):
    after = fields.String(validate=validate.Length(max=500), metadata={"description": "cursor"})
    limit = fields.Integer(strict=True, load_default=25, validate=validate.Range(min=1, max=100))


class CaseListQuery(PageQuery):
    state = _enum(CaseState)
    category = _enum(Category)
    division = fields.String(validate=validate.Regexp(r"^\d{6}$"))
    merchant = fields.String(validate=validate.Length(min=1, max=128))
    q = fields.String(validate=validate.Length(min=1, max=100))


class DeadlineOut(Schema):
    kind = fields.String()
    due_at = fields.DateTime()
    provisional = fields.Boolean()


class EnterpriseRefOut(Schema):
    uscc = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class CaseSummaryOut(Schema):
    number = fields.String()
    state = fields.String()
    category = fields.String()
    source = fields.String()
    enterprise = fields.Nested(EnterpriseRefOut)
    outlet_code = fields.String(allow_none=True)
    division_code = fields.String()
    agency = fields.String(allow_none=True)
    amount_claimed_fen = fields.Integer()
    created_at = fields.DateTime()
    state_entered_at = fields.DateTime()
    deadline = fields.Nested(DeadlineOut, allow_none=True)


class TimelineEntryOut(Schema):
    seq = fields.Integer()
    at = fields.DateTime()
    trigger = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    reason = fields.String()


class TouristOut(Schema):
    name = fields.String()
    phone = fields.String()
    language = fields.String()
    phone_verified = fields.Boolean()


class CaseOut(CaseSummaryOut):
    description = fields.String()
    occurred_on = fields.Date()
    amount_paid_fen = fields.Integer()
    remedy = fields.String()
    tourist = fields.Nested(TouristOut)
    timeline = fields.List(fields.Nested(TimelineEntryOut))
    available_triggers = fields.List(fields.String())


class CasePageOut(Schema):
    data = fields.List(fields.Nested(CaseSummaryOut))
    next_cursor = fields.String(allow_none=True)


class TransitionIn(Schema):
    trigger = fields.String(required=True, validate=validate.Length(min=1, max=48))
    reason = fields.String(validate=validate.Length(max=2000))
    ground = fields.String(validate=validate.Length(max=48))
    handler_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    agency_slug = fields.String(validate=validate.Length(min=1, max=64))
    amount_fen = fields.Integer(strict=True, validate=validate.Range(min=0, max=10**12))
    terms = fields.String(validate=validate.Length(max=2000))


class TransitionOut(Schema):
    seq = fields.Integer()
    trigger = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    case = fields.Nested(CaseOut)


class EvidenceOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()
    created_at = fields.DateTime()
    url = fields.String()


class EvidenceListOut(Schema):
    data = fields.List(fields.Nested(EvidenceOut))


class MessageIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    audiences = fields.List(
        fields.String(validate=validate.OneOf(["tourist", "merchant", "regulator"])),
        validate=validate.Length(max=3),
    )


class MessageOut(Schema):
    id = fields.Integer()
    author_role = fields.String()
    body = fields.String()
    created_at = fields.DateTime()
    visible_to = fields.List(fields.String())


class MessageListOut(Schema):
    data = fields.List(fields.Nested(MessageOut))


class OutletOut(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    category = fields.String()
    division_code = fields.String()
    address = fields.String()
    scan_url = fields.String()


class StandingOut(Schema):
    score = fields.Integer(allow_none=True)
    grade = fields.String(allow_none=True)
    trusted = fields.Boolean()
    serious_list_since = fields.DateTime(allow_none=True)


class CreditEventOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    points = fields.Integer()
    reason = fields.String()
    case_number = fields.String(allow_none=True)
    occurred_at = fields.DateTime()
    expires_at = fields.DateTime()


class EnterpriseOut(EnterpriseRefOut):
    division_code = fields.String()
    trusted = fields.Boolean()
    standing = fields.Nested(StandingOut)
    outlets = fields.List(fields.Nested(OutletOut))
    credit_events = fields.List(fields.Nested(CreditEventOut))


class EnterpriseListQuery(PageQuery):
    q = fields.String(validate=validate.Length(min=1, max=100))


class EnterprisePageOut(Schema):
    data = fields.List(fields.Nested(EnterpriseRefOut))
    next_cursor = fields.String(allow_none=True)


class ClaimOut(Schema):
    id = fields.Integer()
    case_number = fields.String()
    state = _enum(CompensationState)
    amount_fen = fields.Integer()
    requested_at = fields.DateTime()
    approved_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    payout_provider = fields.String(allow_none=True)
    payout_reference = fields.String(allow_none=True)
    decision_reason = fields.String()
    available_triggers = fields.List(fields.String())


class ClaimListQuery(PageQuery):
    state = _enum(CompensationState)


class ClaimPageOut(Schema):
    data = fields.List(fields.Nested(ClaimOut))
    next_cursor = fields.String(allow_none=True)


class ClaimDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ListEntryOut(Schema):
    uscc = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    division_code = fields.String()
    grade = fields.String(allow_none=True)
    score = fields.Integer(allow_none=True)
    since = fields.DateTime(allow_none=True)


class ListPageOut(Schema):
    data = fields.List(fields.Nested(ListEntryOut))
    next_cursor = fields.String(allow_none=True)


class CreditChangeOut(Schema):
    id = fields.Integer()
    uscc = fields.String()
    kind = fields.String(
        validate=validate.OneOf(["grade_changed", "serious_list_entered", "serious_list_left"])
    )
    old_grade = fields.String(allow_none=True)
    new_grade = fields.String(allow_none=True)
    score = fields.Integer(allow_none=True)
    changed_at = fields.DateTime()


class CreditChangeQuery(PageQuery):
    since = fields.DateTime(metadata={"description": "only changes at or after this instant"})


class CreditChangePageOut(Schema):
    data = fields.List(fields.Nested(CreditChangeOut))
    next_cursor = fields.String(allow_none=True)


class StatisticsQuery(Schema):
    since = fields.Date()
    until = fields.Date()


class CountOut(Schema):
    key = fields.String()
    count = fields.Integer()


class StatisticsOut(Schema):
    total = fields.Integer()
    open = fields.Integer()
    by_state = fields.List(fields.Nested(CountOut))
    by_category = fields.List(fields.Nested(CountOut))
    overdue_deadlines = fields.Integer()


class EndpointIn(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=500))
    event_types = fields.List(
        fields.String(validate=validate.Length(min=1, max=48)),
        required=True,
        validate=validate.Length(min=1, max=20),
    )
    owner_email = fields.Email(validate=validate.Length(max=255))
    description = fields.String(validate=validate.Length(max=255))


class EndpointOut(Schema):
    id = fields.Integer()
    url = fields.String()
    event_types = fields.List(fields.String())
    active = fields.Boolean()
    disabled_reason = fields.String()
    created_at = fields.DateTime()
    secret = fields.String(metadata={"description": "only when created or rotated"})


class EndpointListOut(Schema):
    data = fields.List(fields.Nested(EndpointOut))


class DeliveryOut(Schema):
    id = fields.Integer()
    webhook_id = fields.String()
    type = fields.String()
    ordering_key = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String()
    next_attempt_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)


class DeliveryListOut(Schema):
    data = fields.List(fields.Nested(DeliveryOut))
