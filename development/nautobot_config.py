"""Nautobot configuration for developing and testing nautobot-contracts.

Everything comes from the environment (``NAUTOBOT_DB_*``, ``NAUTOBOT_REDIS_*``, ``NAUTOBOT_SECRET_KEY``, ...), so the
same file serves the local mode driven by ``tasks.py`` and the Docker Compose services. Testing mode
(``NAUTOBOT_TESTING=true``, set by the root ``conftest.py``) follows Nautobot core's own test configuration.
"""

import os
import sys

from nautobot.core.settings import *  # noqa: F403
from nautobot.core.settings_funcs import is_truthy, parse_redis_connection

TESTING = is_truthy(os.getenv("NAUTOBOT_TESTING", "false")) or (len(sys.argv) > 1 and sys.argv[1] == "test")
_RUNSERVER = "runserver" in sys.argv

# Redis database indexes. Defaults are the project's own (not 0/1), so a shared Redis is left alone.
REDIS_DB_BROKER = int(os.getenv("NAUTOBOT_REDIS_DB_BROKER", "10"))
REDIS_DB_CACHE = int(os.getenv("NAUTOBOT_REDIS_DB_CACHE", "11"))
REDIS_DB_TEST_CACHE = int(os.getenv("NAUTOBOT_REDIS_DB_TEST_CACHE", "12"))

DEBUG = is_truthy(os.getenv("NAUTOBOT_DEBUG", "true"))
ALLOWED_HOSTS = os.getenv("NAUTOBOT_ALLOWED_HOSTS", "*").split(" ")
SECRET_KEY = os.getenv("NAUTOBOT_SECRET_KEY", "local-development-only-secret-key-0123456789abcdefghijklmnop")
INSTALLATION_METRICS_ENABLED = False
OTEL_TRACES_EXPORTER = ["none"]
OTEL_METRICS_EXPORTER = ["none"]
# Prometheus /metrics (with the app's gauges) is on in development and `make demo`, off under test unless asked for.
METRICS_ENABLED = is_truthy(os.getenv("NAUTOBOT_METRICS_ENABLED", "false" if TESTING else "true"))

DATABASES = {
    "default": {
        "NAME": os.getenv("NAUTOBOT_DB_NAME", "nautobot_contracts"),
        "USER": os.getenv("NAUTOBOT_DB_USER", "postgres"),
        "PASSWORD": os.getenv("NAUTOBOT_DB_PASSWORD", ""),
        "HOST": os.getenv("NAUTOBOT_DB_HOST", "127.0.0.1"),
        "PORT": os.getenv("NAUTOBOT_DB_PORT", "5432"),
        # runserver starts a thread per client connection, and a persistent connection per thread would outlive
        # it: under runserver connections close after each request. uWSGI (`invoke start`) bounds its threads.
        "CONN_MAX_AGE": 0 if _RUNSERVER else int(os.getenv("NAUTOBOT_DB_TIMEOUT", "300")),
        "ENGINE": "django.db.backends.postgresql",
        "TEST": {"NAME": os.getenv("NAUTOBOT_TEST_DB_NAME", "test_nautobot_contracts")},
    }
}

CACHES["default"]["LOCATION"] = parse_redis_connection(redis_database=REDIS_DB_CACHE)
CELERY_BROKER_URL = os.getenv("NAUTOBOT_CELERY_BROKER_URL", parse_redis_connection(redis_database=REDIS_DB_BROKER))

# Media (attachments), static files, jobs and git repositories live under NAUTOBOT_ROOT (the repo's .local/ in local
# mode, /opt/nautobot in Docker).
MEDIA_ROOT = os.path.join(NAUTOBOT_ROOT, "media")
STATIC_ROOT = os.path.join(NAUTOBOT_ROOT, "static")

PLUGINS = ["nautobot_contracts"]
PLUGINS_CONFIG = {
    "nautobot_contracts": {
        "reporting_currency": os.getenv("NAUTOBOT_CONTRACTS_REPORTING_CURRENCY", "USD"),
        # Private attachment files, outside MEDIA_ROOT (which Nautobot serves to every logged-in user).
        "attachment_root": os.getenv("NAUTOBOT_CONTRACTS_ATTACHMENT_ROOT", os.path.join(NAUTOBOT_ROOT, "attachments")),
    }
}

# Mail (the "Send contract notifications" Job): through SMTP as Nautobot's standard NAUTOBOT_EMAIL_* variables say
# (host, port, user, password, TLS/SSL, timeout: read by nautobot.core.settings) whenever NAUTOBOT_EMAIL_HOST is set;
# without it, each message is written as a file under .local/mail/ (or NAUTOBOT_EMAIL_FILE_PATH), so nothing leaves
# the machine and a person can read what would have been sent. Tests use Django's in-memory backend regardless.
if os.getenv("NAUTOBOT_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.getenv(
        "NAUTOBOT_EMAIL_FILE_PATH",
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".local", "mail"),
    )

if TESTING:
    # Modelled on nautobot/core/tests/nautobot_config.py.
    SECRET_KEY = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    DEBUG = False
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"null": {"class": "logging.NullHandler"}},
        "loggers": {"nautobot": {"handlers": ["null"], "level": "INFO"}},
    }
    CACHES["default"]["LOCATION"] = parse_redis_connection(redis_database=REDIS_DB_TEST_CACHE)
    CONSTANCE_BACKEND = "constance.backends.memory.MemoryBackend"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_STORE_EAGER_RESULT = True
    CELERY_BROKER_URL = "memory://"
    CONTENT_TYPE_CACHE_TIMEOUT = 0
    TEST_USE_FACTORIES = False
    MEDIA_ROOT = os.getenv("NAUTOBOT_TEST_MEDIA_ROOT", os.path.join(NAUTOBOT_ROOT, "test-media"))
    # Next to (not inside) the test MEDIA_ROOT, so each engineer's private media root has its own attachment root.
    PLUGINS_CONFIG["nautobot_contracts"]["attachment_root"] = os.getenv(
        "NAUTOBOT_TEST_ATTACHMENT_ROOT", MEDIA_ROOT.rstrip("/") + "-attachments"
    )
