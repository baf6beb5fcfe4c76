"""Signal handlers: statuses on database ready, assignment clean-up, attachment file removal after commit."""

from django.apps import apps as global_apps
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from nautobot_contracts.app_settings import assignable_model_labels
from nautobot_contracts.choices import CONTRACT_STATUSES, INVOICE_STATUSES
from nautobot_contracts.services.notifications import (
    RENEWAL_OWNER_ROLE,
    RENEWAL_OWNER_ROLE_COLOR,
    RENEWAL_OWNER_ROLE_DESCRIPTION,
)


def create_statuses(sender, *, apps=global_apps, **kwargs):
    """Create the app's statuses (or reuse core's of the same name) and bind them to Contract and Invoice."""
    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    Status = apps.get_model("extras", "Status")  # noqa: N806
    for model_name, statuses in (("contract", CONTRACT_STATUSES), ("invoice", INVOICE_STATUSES)):
        content_type = ContentType.objects.get_for_model(apps.get_model("nautobot_contracts", model_name))
        for name, color, description in statuses:
            status, _ = Status.objects.get_or_create(name=name, defaults={"color": color, "description": description})
            status.content_types.add(content_type)


def create_renewal_owner_role(sender, *, apps=global_apps, **kwargs):
    """Create the "Renewal owner" Role (or reuse one of that name) and make it selectable on contact associations.

    A Role is offered on an association when its content types include ContactAssociation (RoleField limits choices
    by the model holding the field), so that is the content type it is bound to; the contract is the associated object.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    Role = apps.get_model("extras", "Role")  # noqa: N806
    role, _ = Role.objects.get_or_create(
        name=RENEWAL_OWNER_ROLE,
        defaults={"color": RENEWAL_OWNER_ROLE_COLOR, "description": RENEWAL_OWNER_ROLE_DESCRIPTION},
    )
    role.content_types.add(ContentType.objects.get_for_model(apps.get_model("extras", "ContactAssociation")))


@receiver(post_delete, dispatch_uid="nautobot_contracts_remove_assignments")
def remove_assignments_of_deleted_object(sender, instance, **kwargs):
    """Deleting an assigned object (device, rack, ...) removes its assignments: no orphans."""
    if sender._meta.label_lower not in assignable_model_labels():
        return
    from django.contrib.contenttypes.models import ContentType  # pylint: disable=import-outside-toplevel

    from nautobot_contracts.models import ContractAssignment  # pylint: disable=import-outside-toplevel

    ContractAssignment.objects.filter(
        assigned_object_type=ContentType.objects.get_for_model(sender), assigned_object_id=instance.pk
    ).delete()


def remove_attachment_file(sender, instance, **kwargs):
    """Delete the stored file once the row's deletion has committed (never on rollback)."""
    if not instance.file:
        return
    storage, name = instance.file.storage, instance.file.name
    transaction.on_commit(lambda: storage.delete(name))
