"""The case and compensation tables: who may do what, where, under which conditions."""

from dataclasses import fields, replace
from itertools import product

import pytest

from workflows.compensation import COMPENSATION_TRANSITIONS, CompensationFacts
from workflows.grounds import DeclineGround, TerminationGround
from workflows.machine import (
    CASE_TRANSITIONS,
    CaseFacts,
    Guard,
    RefusalCode,
    Transition,
    TransitionRefused,
    allowed_triggers,
    apply_effects,
    check,
    validate_table,
)
from workflows.states import (
    FINAL_STATES,
    OPEN_STATES,
    CaseState,
    CompensationState,
    DeadlineKind,
    Role,
)

S, R, C, K = CaseState, Role, CompensationState, DeadlineKind
REG = {R.HANDLER, R.SUPERVISOR}

# The brief, restated independently of the table: (trigger, source) -> (target, roles).
CASE_SPEC = {
    ("route_to_merchant", S.SUBMITTED): (S.MERCHANT_RESPONSE, {R.SYSTEM}),
    ("route_to_regulator", S.SUBMITTED): (S.REGULATOR_REVIEW, {R.SYSTEM}),
    # Order 121: never verified, not accepted (issue 12 item 9).
    ("identity_not_verified", S.SUBMITTED): (S.DECLINED, {R.SYSTEM}),
    ("merchant_refund", S.MERCHANT_RESPONSE): (S.RESOLVED, {R.MERCHANT}),
    ("merchant_offer", S.MERCHANT_RESPONSE): (None, {R.MERCHANT}),
    ("tourist_accept_offer", S.MERCHANT_RESPONSE): (S.RESOLVED, {R.TOURIST}),
    ("tourist_reject_offer", S.MERCHANT_RESPONSE): (S.REGULATOR_REVIEW, {R.TOURIST}),
    ("merchant_dispute", S.MERCHANT_RESPONSE): (S.REGULATOR_REVIEW, {R.MERCHANT}),
    ("merchant_deadline_passed", S.MERCHANT_RESPONSE): (S.REGULATOR_REVIEW, {R.SYSTEM}),
    ("offer_unanswered", S.MERCHANT_RESPONSE): (S.REGULATOR_REVIEW, {R.SYSTEM}),
    ("assign", S.REGULATOR_REVIEW): (None, REG),
    ("assign", S.MEDIATION): (None, REG),
    ("accept", S.REGULATOR_REVIEW): (S.MEDIATION, REG),
    ("decline", S.REGULATOR_REVIEW): (S.DECLINED, REG),
    **{("transfer", s): (None, REG) for s in (S.SUBMITTED, S.REGULATOR_REVIEW, S.MEDIATION)},
    ("pause_for_appraisal", S.MEDIATION): (None, {R.HANDLER}),
    ("resume_after_appraisal", S.MEDIATION): (None, {R.HANDLER}),
    ("record_agreement", S.MEDIATION): (S.RESOLVED, {R.HANDLER}),
    ("terminate", S.MEDIATION): (S.TERMINATED, REG),
    **{("escalate", s): (None, {R.SYSTEM}) for s in (S.REGULATOR_REVIEW, S.MEDIATION)},
    # Not TERMINATED (issue 12 item 16): the parties are told at termination; the tick closes.
    **{("withdraw", s): (S.WITHDRAWN, {R.TOURIST}) for s in OPEN_STATES},
    **{("merge_into", s): (S.CLOSED, REG) for s in OPEN_STATES},
    **{("absorb_duplicate", s): (None, REG) for s in OPEN_STATES},
    **{
        ("close", s): (S.CLOSED, REG | {R.SYSTEM})
        for s in (S.RESOLVED, S.DECLINED, S.TERMINATED, S.WITHDRAWN)
    },
    **{("reopen", s): (S.REGULATOR_REVIEW, REG | {R.TOURIST}) for s in (S.CLOSED, S.DECLINED)},
}

COMPENSATION_SPEC = {
    ("approve", C.REQUESTED): (C.APPROVED, {R.FUND_MANAGER}),
    ("auto_approve", C.REQUESTED): (C.APPROVED, {R.SYSTEM}),
    ("reject", C.REQUESTED): (C.REJECTED, {R.FUND_MANAGER}),
    ("pay", C.APPROVED): (C.PAID, {R.SYSTEM}),
    ("open_recovery", C.PAID): (C.RECOVERY_OPEN, {R.SYSTEM}),
    **{
        ("confirm_repayment", s): (C.RECOVERED, {R.FUND_MANAGER})
        for s in (C.RECOVERY_OPEN, C.OVERDUE)
    },
    **{("deduct_deposit", s): (C.DEDUCTED, {R.FUND_MANAGER}) for s in (C.RECOVERY_OPEN, C.OVERDUE)},
    ("mark_overdue", C.RECOVERY_OPEN): (C.OVERDUE, {R.SYSTEM}),
    **{
        ("reject_repayment_reference", s): (None, {R.FUND_MANAGER})
        for s in (C.RECOVERY_OPEN, C.OVERDUE)
    },
    **{("return_to_fund", s): (C.RETURNED, {R.SYSTEM}) for s in (C.PAID, C.RECOVERY_OPEN)},
}

TABLES = [
    pytest.param(CASE_TRANSITIONS, CaseFacts, CaseState, CASE_SPEC, id="case"),
    pytest.param(
        COMPENSATION_TRANSITIONS, CompensationFacts, CompensationState, COMPENSATION_SPEC,
        id="compensation",
    ),
]  # fmt: skip


def facts_satisfying(transition: Transition, facts_type: type) -> object:
    return facts_type(**{g.fact: g.expected for g in transition.guards})


def justification(transition: Transition) -> dict:
    ground = next(iter(transition.ground_type)) if transition.ground_type else None
    return {"reason": "stated reason" if transition.reason_required else None, "ground": ground}


@pytest.mark.parametrize(("table", "facts_type", "states", "spec"), TABLES)
def test_the_table_is_well_formed_and_matches_the_spec(table, facts_type, states, spec):
    validate_table(table, facts_type)
    actual = {(t.trigger, s): (t.target, set(t.roles)) for t in table for s in t.sources}
    assert actual == spec


@pytest.mark.parametrize(("table", "facts_type", "states", "spec"), TABLES)
def test_every_state_role_trigger_combination_is_allowed_or_refused_with_the_right_code(
    table, facts_type, states, spec
):
    triggers = {t.trigger for t in table} | {"no_such_trigger"}
    for state, role, trigger in product(states, Role, sorted(triggers)):
        entry = spec.get((trigger, state))
        if trigger == "no_such_trigger":
            expected = RefusalCode.UNKNOWN_TRIGGER
        elif entry is None:
            expected = RefusalCode.WRONG_STATE
        elif role not in entry[1]:
            expected = RefusalCode.ROLE_NOT_ALLOWED
        else:
            expected = None
        row = next((t for t in table if t.trigger == trigger and state in t.sources), None)
        facts = facts_satisfying(row, facts_type) if row else facts_type()
        kwargs = justification(row) if row else {}
        if expected is None:
            result = check(state, trigger, role, facts, table=table, **kwargs)
            assert result.resulting_state(state) == (entry[0] or state)
            assert result in allowed_triggers(state, role, facts, table=table)
        else:
            with pytest.raises(TransitionRefused) as refused:
                check(state, trigger, role, facts, table=table, **kwargs)
            assert refused.value.code == expected, (state, role, trigger)
            assert trigger in str(refused.value)


def test_the_refusal_names_trigger_state_and_role():
    with pytest.raises(TransitionRefused) as refused:
        check(S.MEDIATION, "accept", R.HANDLER, CaseFacts())
    error = refused.value
    assert (error.code, error.trigger, error.state, error.role) == (
        "wrong_state",
        "accept",
        S.MEDIATION,
        R.HANDLER,
    )
    assert str(error) == (
        "Refused trigger 'accept' in state 'mediation' by role 'handler': "
        "it applies only in regulator_review."
    )
    with pytest.raises(TransitionRefused, match="only handler, supervisor may fire it"):
        check(S.REGULATOR_REVIEW, "accept", R.MERCHANT, CaseFacts())


F = CaseFacts
GUARD_CASES = [
    (S.SUBMITTED, "route_to_merchant", R.SYSTEM, F(), F(merchant_participates=True)),
    (S.MERCHANT_RESPONSE, "tourist_accept_offer", R.TOURIST, F(), F(offer_pending=True)),
    (S.MERCHANT_RESPONSE, "tourist_reject_offer", R.TOURIST, F(), F(offer_pending=True)),
    (S.MERCHANT_RESPONSE, "merchant_deadline_passed", R.SYSTEM, F(), F(deadline_passed=True)),
    (S.MEDIATION, "pause_for_appraisal", R.HANDLER, F(appraisal_paused=True), F()),
    (S.MEDIATION, "resume_after_appraisal", R.HANDLER, F(), F(appraisal_paused=True)),
    (S.REGULATOR_REVIEW, "escalate", R.SYSTEM, F(), F(deadline_passed=True)),
    (S.MEDIATION, "escalate", R.SYSTEM, F(deadline_passed=True, escalated=True),
     F(deadline_passed=True)),
]  # fmt: skip


@pytest.mark.parametrize(("state", "trigger", "role", "missing", "present"), GUARD_CASES)
def test_guards(state, trigger, role, missing, present):
    with pytest.raises(TransitionRefused) as refused:
        check(state, trigger, role, missing)
    assert refused.value.code == RefusalCode.GUARD_FAILED
    assert check(state, trigger, role, present).trigger == trigger


def test_reopen_needs_the_appeal_window_and_a_reason():
    inside = CaseFacts(within_appeal_window=True)
    with pytest.raises(TransitionRefused, match="within_appeal_window"):
        check(S.CLOSED, "reopen", R.TOURIST, CaseFacts(), reason="the merchant never paid")
    with pytest.raises(TransitionRefused) as refused:
        check(S.CLOSED, "reopen", R.TOURIST, inside)
    assert refused.value.code == RefusalCode.REASON_REQUIRED
    reopened = check(S.DECLINED, "reopen", R.TOURIST, inside, reason="I have the receipt now")
    assert reopened.target == S.REGULATOR_REVIEW


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_transfer_requires_a_reason(reason):
    with pytest.raises(TransitionRefused) as refused:
        check(S.REGULATOR_REVIEW, "transfer", R.HANDLER, CaseFacts(), reason=reason)
    assert refused.value.code == RefusalCode.REASON_REQUIRED


def test_transfer_with_a_reason_stays_in_place():
    transfer = check(
        S.MEDIATION, "transfer", R.SUPERVISOR, CaseFacts(), reason="outlet is in 460202"
    )
    assert transfer.is_self_transition
    assert transfer.resulting_state(S.MEDIATION) == S.MEDIATION


@pytest.mark.parametrize(
    ("trigger", "state", "good", "wrong_enum"),
    [
        ("decline", S.REGULATOR_REVIEW, DeclineGround.TIME_BARRED_3Y, TerminationGround.OTHER),
        ("terminate", S.MEDIATION, TerminationGround.PARTY_REFUSED, DeclineGround.FALSE_IDENTITY),
    ],
)
def test_grounds(trigger, state, good, wrong_enum):
    def code(**kwargs):
        with pytest.raises(TransitionRefused) as refused:
            check(state, trigger, R.HANDLER, CaseFacts(), **kwargs)
        return refused.value.code

    assert code() == RefusalCode.GROUND_REQUIRED
    assert code(ground=wrong_enum) == RefusalCode.BAD_GROUND
    assert code(ground="made_up") == RefusalCode.BAD_GROUND
    assert check(state, trigger, R.HANDLER, CaseFacts(), ground=good).trigger == trigger
    assert check(state, trigger, R.HANDLER, CaseFacts(), ground=good.value).trigger == trigger


def test_a_ground_on_a_transition_without_one_is_refused():
    with pytest.raises(TransitionRefused) as refused:
        check(
            S.REGULATOR_REVIEW,
            "accept",
            R.HANDLER,
            CaseFacts(),
            ground=DeclineGround.OTHER_LEGAL_GROUND,
        )
    assert refused.value.code == RefusalCode.BAD_GROUND


def test_grounds_have_descriptions_and_legal_bases():
    for ground in [*DeclineGround, *TerminationGround]:
        assert ground.description
        assert ground.legal_basis.startswith("SAMR Order")
    assert DeclineGround.TIME_BARRED_3Y.legal_basis.endswith("Art. 15(4)")
    assert TerminationGround.TIME_LIMIT_REACHED.legal_basis.endswith("Art. 21(5)")


NO_FACTS = CaseFacts()


def test_what_the_ui_offers():
    def offered(state, role, facts=NO_FACTS):
        return [t.trigger for t in allowed_triggers(state, role, facts)]

    assert offered(S.SUBMITTED, R.SYSTEM) == ["route_to_regulator"]
    both = CaseFacts(merchant_participates=True)
    assert offered(S.SUBMITTED, R.SYSTEM, both) == ["route_to_merchant", "route_to_regulator"]
    assert offered(S.MERCHANT_RESPONSE, R.TOURIST) == ["withdraw"]
    assert offered(S.MERCHANT_RESPONSE, R.TOURIST, CaseFacts(offer_pending=True)) == [
        "tourist_accept_offer",
        "tourist_reject_offer",
        "withdraw",
    ]
    assert offered(S.MEDIATION, R.HANDLER) == [
        "assign",
        "transfer",
        "pause_for_appraisal",
        "record_agreement",
        "terminate",
        "merge_into",
        "absorb_duplicate",
    ]
    assert offered(S.MEDIATION, R.SUPERVISOR, CaseFacts(appraisal_paused=True)) == [
        "assign",
        "transfer",
        "terminate",
        "merge_into",
        "absorb_duplicate",
    ]
    assert offered(S.CLOSED, R.TOURIST) == []
    assert all(offered(state, R.ADMIN) == [] for state in CaseState)


def test_effects_set_facts_and_state_changes_reset_state_scoped_ones():
    offer = check(S.MERCHANT_RESPONSE, "merchant_offer", R.MERCHANT, CaseFacts())
    after_offer = apply_effects(CaseFacts(merchant_participates=True), offer)
    assert after_offer == CaseFacts(merchant_participates=True, offer_pending=True)
    reject = check(S.MERCHANT_RESPONSE, "tourist_reject_offer", R.TOURIST, after_offer)
    assert apply_effects(after_offer, reject) == CaseFacts(merchant_participates=True)


def test_deadlines_started_by_the_table():
    starts = {(t.trigger, t.target): t.starts_deadline for t in CASE_TRANSITIONS}
    into_review = {k: v for k, v in starts.items() if k[1] == S.REGULATOR_REVIEW}
    assert set(into_review.values()) == {K.ACCEPTANCE_DECISION}
    assert starts[("route_to_merchant", S.MERCHANT_RESPONSE)] == K.MERCHANT_RESPONSE
    assert starts[("accept", S.MEDIATION)] == K.MEDIATION
    assert starts[("terminate", S.TERMINATED)] == K.TERMINATION_NOTICE
    assert starts[("decline", S.DECLINED)] == K.APPEAL_WINDOW
    closing = {t.starts_deadline for t in CASE_TRANSITIONS if t.trigger == "close"}
    assert closing == {None, K.APPEAL_WINDOW}  # a declined case's window runs from the decline
    restarting = {
        t.trigger: t.starts_deadline
        for t in CASE_TRANSITIONS
        if t.is_self_transition and t.starts_deadline is not None
    }
    # An offer restarts a clock (the tourist gets the merchant's time to answer it), and a
    # transfer gives the receiving agency its own acceptance clock (issue 12 item 16).
    assert restarting == {
        "merchant_offer": K.MERCHANT_RESPONSE,
        "transfer": K.ACCEPTANCE_DECISION,
    }


def test_every_state_is_reachable_and_every_open_state_can_reach_closed():
    def reachable(start):
        seen, frontier = {start}, [start]
        while frontier:
            state = frontier.pop()
            for t in CASE_TRANSITIONS:
                if state in t.sources and t.resulting_state(state) not in seen:
                    seen.add(t.resulting_state(state))
                    frontier.append(t.resulting_state(state))
        return seen

    assert reachable(S.SUBMITTED) == set(CaseState)
    assert all(S.CLOSED in reachable(state) for state in CaseState)
    assert set(CaseState) == OPEN_STATES | FINAL_STATES
    assert not OPEN_STATES & FINAL_STATES


def test_only_closing_and_reopening_leave_a_final_state():
    leaving = {t.trigger for t in CASE_TRANSITIONS if t.sources & FINAL_STATES and t.target}
    assert leaving == {"close", "reopen"}


def test_compensation_track():
    facts = CompensationFacts()
    with pytest.raises(TransitionRefused) as refused:
        check(C.REQUESTED, "auto_approve", R.SYSTEM, facts, table=COMPENSATION_TRANSITIONS)
    assert refused.value.code == RefusalCode.GUARD_FAILED
    with pytest.raises(TransitionRefused) as refused:
        check(C.REQUESTED, "approve", R.SYSTEM, facts, table=COMPENSATION_TRANSITIONS)
    assert refused.value.code == RefusalCode.ROLE_NOT_ALLOWED
    small = replace(facts, small_claim=True, payee_known=True)
    approved = check(C.REQUESTED, "auto_approve", R.SYSTEM, small, table=COMPENSATION_TRANSITIONS)
    assert approved.target == C.APPROVED
    recovery = check(C.PAID, "open_recovery", R.SYSTEM, facts, table=COMPENSATION_TRANSITIONS)
    assert recovery.starts_deadline == K.RECOVERY_DUE
    deduct = check(
        C.OVERDUE,
        "deduct_deposit",
        R.FUND_MANAGER,
        CompensationFacts(merchant_has_deposit=True),
        table=COMPENSATION_TRANSITIONS,
    )
    assert deduct.starts_deadline == K.DEPOSIT_TOP_UP
    offered = allowed_triggers(
        C.RECOVERY_OPEN,
        R.SYSTEM,
        CompensationFacts(parties_settled=True),
        table=COMPENSATION_TRANSITIONS,
    )
    assert [t.trigger for t in offered] == ["return_to_fund"]


def test_validate_table_rejects_ambiguity_and_unknown_facts():
    duplicate = (*CASE_TRANSITIONS, CASE_TRANSITIONS[0])
    with pytest.raises(ValueError, match="two rows"):
        validate_table(duplicate, CaseFacts)
    typo = replace(CASE_TRANSITIONS[0], guards=(Guard("merchant_particpates"),))
    with pytest.raises(ValueError, match="unknown facts"):
        validate_table((typo,), CaseFacts)


def test_state_scoped_facts_exist():
    for facts_type in (CaseFacts, CompensationFacts):
        assert {f.name for f in fields(facts_type)} >= facts_type.STATE_SCOPED


def test_facts_must_be_real_booleans():
    with pytest.raises(TypeError, match=r"CaseFacts\.offer_pending must be a bool"):
        CaseFacts(offer_pending=1)
