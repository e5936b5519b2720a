"""The two ceiling endpoints, kept apart from the app's own models and migrations.

`bench_rows` lives on a MetaData of its own: it is created in the throw-away benchmark
database by bench/run.py and is never part of the app's schema.
"""

from flask import Flask
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, func, insert

from complaints.extensions import csrf, db

metadata = MetaData()

bench_rows = Table(
    "bench_rows",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("payload", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def add_ceiling_routes(app: Flask) -> None:
    """GET /bench/trivial and POST /bench/insert on an app built by the real create_app."""

    @app.get("/bench/trivial")
    def bench_trivial():
        return "ok"

    @app.post("/bench/insert")
    @csrf.exempt
    def bench_insert():
        db.session.execute(insert(bench_rows).values(payload="one row"))
        db.session.commit()
        return "ok", 201
