"""Wire pytest-django to Nautobot: load development/nautobot_config.py in testing mode before Django starts."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_configure(config):
    """Configure Nautobot (and through it Django) once, before test collection imports any model."""
    os.environ["NAUTOBOT_TESTING"] = "true"
    os.environ.setdefault("NAUTOBOT_ROOT", str(ROOT / ".local" / "nautobot"))
    import nautobot

    nautobot.setup(config_path=str(ROOT / "development" / "nautobot_config.py"))


@pytest.fixture(scope="session", autouse=True)
def _nautobot_test_environment():
    """Do what Nautobot's own test runner does around a test session."""
    from django.conf import settings
    from nautobot.core.celery import app, setup_nautobot_job_logging

    # Capture job logs from eager Celery tasks, as NautobotTestRunner.setup_test_environment does.
    setup_nautobot_job_logging(None, None, app.conf)
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
    yield
