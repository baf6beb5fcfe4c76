"""UI routes, mounted at /plugins/contracts/."""

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView
from nautobot.apps.urls import NautobotUIViewSetRouter

from nautobot_contracts import views

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
router.register("budgets", views.BudgetUIViewSet)

urlpatterns = [
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
urlpatterns += router.urls
