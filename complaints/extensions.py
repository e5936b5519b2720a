"""Unbound extension instances; `complaints.app.create_app` binds them."""

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from complaints.database import Base
from complaints.replica import RoutingSession

# RoutingSession: a view marked @reads_from_replica reads from DATABASE_REPLICA_URL.
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
cache = Cache()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
