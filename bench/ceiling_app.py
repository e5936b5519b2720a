"""WSGI entry for the benchmark: the real app plus the two ceiling routes, one gunicorn.

    gunicorn -w 4 -b 127.0.0.1:8000 bench.ceiling_app:app

Same create_app, same config, extensions, middleware and error handlers as `wsgi:app`, so
the scan page, the complaint form and the ceilings all pay identical framework overhead.
"""

from bench.ceiling import add_ceiling_routes
from complaints import create_app

app = create_app()
add_ceiling_routes(app)
