"""UI routes, mounted at /plugins/contracts/."""

from django.templatetags.static import static
from django.urls import path, re_path
from django.views.generic import RedirectView
from nautobot.apps.urls import NautobotUIViewSetRouter

from nautobot_contracts import dashboard, views, views_calendar

app_name = "nautobot_contracts"
router = NautobotUIViewSetRouter()
router.register("service-providers", views.ServiceProviderUIViewSet)
router.register("contracts", views.ContractUIViewSet)
router.register("invoices", views.InvoiceUIViewSet)
router.register("contract-assignments", views.ContractAssignmentUIViewSet)
router.register("contract-attachments", views.ContractAttachmentUIViewSet)
router.register("invoice-attachments", views.InvoiceAttachmentUIViewSet)
router.register("exchange-rates", views.ExchangeRateUIViewSet)
router.register("cost-snapshots", views.CostSnapshotUIViewSet)
router.register("alerts", views.ContractAlertUIViewSet)
router.register("budgets", views.BudgetUIViewSet)

urlpatterns = [
    path("dashboard/", dashboard.DashboardView.as_view(), name="dashboard"),
    # The app's documentation, built by `invoke docs` into the package's static files.
    path("docs/", RedirectView.as_view(url=static("nautobot_contracts/docs/index.html")), name="docs"),
    # Stored files leave only through these permission-checked views (the REST API links to them too).
    path(
        "contract-attachments/<uuid:pk>/download/",
        views.ContractAttachmentDownloadView.as_view(),
        name="contractattachment_download",
    ),
    path(
        "invoice-attachments/<uuid:pk>/download/",
        views.InvoiceAttachmentDownloadView.as_view(),
        name="invoiceattachment_download",
    ),
]
# The renewal calendar, its iCalendar feed (the token in the URL is the credential) and the user's feed tokens.
urlpatterns += [
    path("calendar/", views_calendar.RenewalCalendarView.as_view(), name="calendar"),
    re_path(
        r"^calendar/feed/(?P<token>[A-Za-z0-9_-]{1,128})\.ics$",
        views_calendar.RenewalFeedView.as_view(),
        name="calendar_feed",
    ),
    path("calendar/tokens/", views_calendar.FeedTokenListView.as_view(), name="feedtoken_list"),
    path("calendar/tokens/<uuid:pk>/revoke/", views_calendar.FeedTokenRevokeView.as_view(), name="feedtoken_revoke"),
]
urlpatterns += router.urls
