"""The API's resources, one smorest Blueprint per kind of thing."""


def blueprints():
    from complaints.api.resources import (
        cases,
        compensation,
        credit,
        merchants,
        statistics,
        webhooks,
    )

    return [cases.blp, merchants.blp, compensation.blp, credit.blp, statistics.blp, webhooks.blp]
