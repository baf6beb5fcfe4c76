"""Nautobot's URLs plus /metrics/, as core mounts it when METRICS_ENABLED is set (the test settings leave it off).

Test-only: NautobotMetricsView has no door in nautobot.apps; it is the exact view nautobot/core/urls.py mounts, so
the scrape in tests/test_metrics.py goes through Nautobot's own collector of app metrics.
"""

from django.urls import path
from nautobot.core.urls import urlpatterns as core_urlpatterns
from nautobot.core.views import NautobotMetricsView

urlpatterns = [path("metrics/", NautobotMetricsView.as_view(), name="metrics"), *core_urlpatterns]
