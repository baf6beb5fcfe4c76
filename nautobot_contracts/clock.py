"""The app's one clock: every default "today" in models, services, Jobs, views, API and demo data reads it here."""

from django.utils import timezone


def today():
    """Today's date in Nautobot's time zone (``TIME_ZONE``), as ``timezone.localdate()`` gives it."""
    return timezone.localdate()
