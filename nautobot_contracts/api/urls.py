"""REST API routes."""

from nautobot.apps.api import OrderedDefaultRouter

app_name = "nautobot_contracts-api"

router = OrderedDefaultRouter()

urlpatterns = router.urls
