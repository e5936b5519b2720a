"""A handful of demo complaints in different states, so the demo's queues are not empty.

Filed through the same services a tourist and the staff use, back-dated, and idempotent by
their fixed submission keys. Never run in production (seed_all refuses there).
"""

from datetime import timedelta

from sqlalchemy import select

from complaints.cases.models import CaseSource, Remedy
from complaints.cases.services import ComplaintInput, file_complaint, phone_verified
from complaints.cases.workflow import Actor, fire
from complaints.database import utcnow
from complaints.extensions import db
from complaints.merchants.models import Outlet
from workflows.states import Role

TOURIST = Actor(Role.TOURIST)
MERCHANT = Actor(Role.MERCHANT, "demo")
HANDLER = Actor(Role.HANDLER, "demo")

# (outlet name_en contains, hours ago, phone, paid, claimed, story, [(trigger, actor, reason)])
# Five complaints against the same taxi company within days: the demo's early warning
# ("many complaints against one merchant") is raised by the seed from these.
TAXI_BURST = [
    (
        "Taxi Qiong B·T1234",
        hours,
        f"+86139000001{n:02d}",
        20000,
        15000,
        "Taken the long way round; the meter showed twice the usual fare to the hotel.",
        [],
    )
    for n, hours in enumerate((10, 26, 50, 74))
]

DEMO_CASES = [
    (
        "Ah Hai",
        2,
        "+8613900000001",
        88000,
        79200,
        "Seafood weighed at 3 jin on their scale, 1.5 jin on the market's public scale.",
        [],
    ),
    (
        "Yalong Bay Jewellery flagship",
        30,
        "+447911000002",
        1280000,
        1280000,
        "Sold a 'natural pearl' necklace that the certificate shows is freshwater cultured.",
        [("merchant_offer", MERCHANT, "Refund of 6,400 yuan and we keep the necklace")],
    ),
    (
        "Taxi Qiong B·T1234",
        6,
        "+8613900000003",
        30000,
        24000,
        "The driver refused the meter and charged 300 yuan from the airport to Dadonghai.",
        [],
    ),
    (
        "Coconut Dream",
        200,
        "+8613900000004",
        398000,
        398000,
        "Tour included a forced shopping stop of three hours that was not in the contract.",
        [
            ("merchant_dispute", MERCHANT, "The stop is listed in the itinerary annex, page 2"),
            ("accept", HANDLER, ""),
        ],
    ),
    (
        "Coconut Breeze Hotel",
        400,
        "+8613900000005",
        120000,
        60000,
        "Sea-view room booked and paid; given a room facing the car park.",
        [("merchant_refund", MERCHANT, "Refunded the difference of 600 yuan")],
    ),
    *TAXI_BURST,
]


def seed_demo_cases(secret_key: str, public_base_url: str) -> int:
    filed = 0
    for index, (outlet_part, hours, phone, paid, claimed, story, steps) in enumerate(DEMO_CASES):
        outlet = db.session.scalar(select(Outlet).where(Outlet.name_en.contains(outlet_part)))
        if outlet is None:
            continue
        when = utcnow() - timedelta(hours=hours)
        result = file_complaint(
            ComplaintInput(
                enterprise_id=outlet.enterprise_id,
                outlet_id=outlet.id,
                category=outlet.category,
                description=story,
                occurred_on=(when - timedelta(days=1)).date(),
                amount_paid_fen=paid,
                amount_claimed_fen=claimed,
                remedy=Remedy.PARTIAL_REFUND,
                tourist_name="Demo Tourist",
                tourist_phone=phone,
                language="en" if phone.startswith("+44") else "zh",
                contact_consent=False,
                source=CaseSource.QR,
                submission_key=f"demo-case-{index:02d}-anxin-seed-key",
            ),
            secret_key=secret_key,
            public_base_url=public_base_url,
            now=when,
        )
        if not result.created:
            continue
        phone_verified(result.case, when + timedelta(minutes=2))
        for offset, (trigger, actor, reason) in enumerate(steps, start=1):
            fire(
                result.case,
                trigger,
                actor,
                now=when + timedelta(hours=offset),
                reason=reason or None,
            )
        filed += 1
    db.session.flush()
    return filed
