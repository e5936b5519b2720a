"""Legal grounds a regulator must give when declining a complaint or ending mediation.

Articles refer to SAMR Order No. 20 (2019, amended 2022), 市场监督管理投诉举报处理暂行办法.
Order No. 121 replaces it from 2026-04-15 and adds the false-identity ground.
"""

from datetime import date
from enum import StrEnum

# SAMR Order No. 121 replaces Order No. 20 for complaints received from this day on: grounds,
# citations and notices follow the rule in force when the complaint was received.
ORDER_121_IN_FORCE = date(2026, 4, 15)


class DeclineGround(StrEnum):
    """Art. 15: why a complaint is not accepted."""

    OUTSIDE_REMIT_OR_JURISDICTION = "outside_remit_or_jurisdiction"
    HANDLED_ELSEWHERE = "handled_elsewhere"
    NOT_CONSUMER_DISPUTE = "not_consumer_dispute"
    TIME_BARRED_3Y = "time_barred_3y"
    MATERIALS_MISSING = "materials_missing"
    FALSE_IDENTITY = "false_identity"
    OTHER_LEGAL_GROUND = "other_legal_ground"

    @property
    def description(self) -> str:
        return _DECLINE_DESCRIPTIONS[self]

    @property
    def legal_basis(self) -> str:
        return _DECLINE_BASIS[self]


class TerminationGround(StrEnum):
    """Art. 21: why mediation ends without an agreement."""

    WITHDRAWN_OR_SETTLED = "withdrawn_or_settled"
    NO_AGREEMENT_ON_TESTING = "no_agreement_on_testing"
    PARTY_REFUSED = "party_refused"
    AGREEMENT_IMPOSSIBLE = "agreement_impossible"
    TIME_LIMIT_REACHED = "time_limit_reached"
    ACCEPTANCE_GROUND_APPEARED = "acceptance_ground_appeared"
    OTHER = "other"

    @property
    def description(self) -> str:
        return _TERMINATION_DESCRIPTIONS[self]

    @property
    def legal_basis(self) -> str:
        return _TERMINATION_BASIS[self]


_DECLINE_DESCRIPTIONS = {
    DeclineGround.OUTSIDE_REMIT_OR_JURISDICTION: (
        "Outside this regulator's duties or territorial jurisdiction"
    ),
    DeclineGround.HANDLED_ELSEWHERE: (
        "Already accepted or handled by a court, arbitration body, another agency, "
        "consumer association or mediation body"
    ),
    DeclineGround.NOT_CONSUMER_DISPUTE: (
        "Not household consumption, or no consumer dispute with the respondent is shown"
    ),
    DeclineGround.TIME_BARRED_3Y: (
        "More than three years since the complainant knew or should have known of the harm"
    ),
    DeclineGround.MATERIALS_MISSING: "Required materials are missing",
    DeclineGround.FALSE_IDENTITY: (
        "False identity or material, impersonation, or refusal to verify identity"
    ),
    DeclineGround.OTHER_LEGAL_GROUND: "Another ground provided by law",
}

_DECLINE_BASIS = {
    DeclineGround.OUTSIDE_REMIT_OR_JURISDICTION: "SAMR Order 20 Art. 15(1)",
    DeclineGround.HANDLED_ELSEWHERE: "SAMR Order 20 Art. 15(2)",
    DeclineGround.NOT_CONSUMER_DISPUTE: "SAMR Order 20 Art. 15(3)",
    DeclineGround.TIME_BARRED_3Y: "SAMR Order 20 Art. 15(4)",
    DeclineGround.MATERIALS_MISSING: "SAMR Order 20 Art. 15(5)",
    DeclineGround.FALSE_IDENTITY: "SAMR Order 121 (in force 2026-04-15)",
    DeclineGround.OTHER_LEGAL_GROUND: "SAMR Order 20 Art. 15(6)",
}

_TERMINATION_DESCRIPTIONS = {
    TerminationGround.WITHDRAWN_OR_SETTLED: (
        "The complainant withdrew the complaint or the parties settled"
    ),
    TerminationGround.NO_AGREEMENT_ON_TESTING: (
        "The parties could not agree on testing, appraisal or identification"
    ),
    TerminationGround.PARTY_REFUSED: "A party refused mediation without good reason",
    TerminationGround.AGREEMENT_IMPOSSIBLE: "A party stated that agreement is impossible",
    TerminationGround.TIME_LIMIT_REACHED: ("The mediation time limit passed without agreement"),
    TerminationGround.ACCEPTANCE_GROUND_APPEARED: (
        "A ground for not accepting the complaint appeared during mediation"
    ),
    TerminationGround.OTHER: "Another circumstance that makes mediation impossible",
}

_TERMINATION_BASIS = {
    TerminationGround.WITHDRAWN_OR_SETTLED: "SAMR Order 20 Art. 21(1)",
    TerminationGround.NO_AGREEMENT_ON_TESTING: "SAMR Order 20 Art. 21(2)",
    TerminationGround.PARTY_REFUSED: "SAMR Order 20 Art. 21(3)",
    TerminationGround.AGREEMENT_IMPOSSIBLE: "SAMR Order 20 Art. 21(4)",
    TerminationGround.TIME_LIMIT_REACHED: "SAMR Order 20 Art. 21(5)",
    TerminationGround.ACCEPTANCE_GROUND_APPEARED: "SAMR Order 20 Art. 21(6)",
    TerminationGround.OTHER: "SAMR Order 20 Art. 21(7)",
}


def order_121_applies(received_on: date) -> bool:
    return received_on >= ORDER_121_IN_FORCE


def legal_basis_on(ground: DeclineGround | TerminationGround, received_on: date) -> str:
    """The provision a ground rests on under the rule in force at receipt.

    Order 121 keeps Order 20's structure, but its article numbers are not verified here
    (RULES.md): under it the order is cited with the Order 20 article the ground comes from,
    never a guessed new article number.
    """
    if not order_121_applies(received_on) or ground.legal_basis.startswith("SAMR Order 121"):
        return ground.legal_basis
    return f"SAMR Order 121 (formerly {ground.legal_basis})"


def unverified_identity_ground(received_on: date) -> DeclineGround:
    """Why a complaint whose sender never verified their phone is not accepted: Order 121's
    refusal to verify identity, or before it the missing complaint contents (Art. 9)."""
    if order_121_applies(received_on):
        return DeclineGround.FALSE_IDENTITY
    return DeclineGround.MATERIALS_MISSING
