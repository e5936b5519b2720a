"""What an inspector checks at an outlet, by the outlet's category. Keys are stored with the
inspection; labels are translated for the reader."""

from flask_babel import lazy_gettext as _l

from complaints.categories import Category

COMMON = {
    "licence_displayed": _l("Business licence displayed"),
    "code_displayed": _l("Anxin code posted where tourists see it"),
    "prices_marked": _l("Prices clearly marked"),
}
BY_CATEGORY = {
    Category.CATERING: {
        "food_permit": _l("Food business permit valid"),
        "scales_verified": _l("Scales verified (seafood sold by weight)"),
        "hygiene": _l("Kitchen hygiene acceptable"),
    },
    Category.SHOPPING: {
        "certificates": _l("Quality certificates for jewellery or specialties"),
        "no_forced_buying": _l("No forced or induced buying"),
    },
    Category.LODGING: {
        "rates_posted": _l("Room rates posted"),
        "fire_safety": _l("Fire exits clear"),
    },
    Category.TRANSPORT: {
        "meter_sealed": _l("Meter sealed and working"),
        "driver_licence": _l("Driver's permit displayed"),
    },
    Category.TRAVEL_AGENCY: {
        "contract_standard": _l("Standard tour contracts used"),
        "deposit_paid": _l("Quality guarantee deposit in place"),
    },
    Category.ATTRACTIONS: {
        "ticket_prices": _l("Ticket prices and discounts posted"),
        "safety_signs": _l("Safety signs in place"),
    },
}


def checklist_for(category: Category) -> dict:
    return {**COMMON, **BY_CATEGORY.get(category, {})}
