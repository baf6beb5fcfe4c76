"""REST API routes, mounted at /api/plugins/contracts/."""

from django.urls import path
from nautobot.apps.api import OrderedDefaultRouter

from nautobot_contracts.api import allocation, views

app_name = "nautobot_contracts-api"

router = OrderedDefaultRouter()
router.register("service-providers", views.ServiceProviderViewSet)
router.register("contracts", views.ContractViewSet)
router.register("invoices", views.InvoiceViewSet)
router.register("contract-assignments", views.ContractAssignmentViewSet)
router.register("contract-attachments", views.ContractAttachmentViewSet)
router.register("invoice-attachments", views.InvoiceAttachmentViewSet)
router.register("cost-snapshots", views.CostSnapshotViewSet)
router.register("exchange-rates", views.ExchangeRateViewSet)
router.register("alerts", views.ContractAlertViewSet)
router.register("budgets", views.BudgetViewSet)

urlpatterns = [
    path("cost-allocation/", allocation.CostAllocationView.as_view(), name="cost-allocation"),
    *router.urls,
]
