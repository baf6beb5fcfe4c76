"""UI routes, mounted at /plugins/contracts/."""

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView
from nautobot.apps.urls import NautobotUIViewSetRouter

app_name = "nautobot_contracts"
router = NautobotUIViewSetRouter()

urlpatterns = [
    # The app's documentation, built by `invoke docs` into the package's static files.
    path("docs/", RedirectView.as_view(url=static("nautobot_contracts/docs/index.html")), name="docs"),
]
urlpatterns += router.urls
