"""Load benchmark: `make bench` runs the app under gunicorn against PostgreSQL (see run.py)."""
