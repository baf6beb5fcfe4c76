"""Bulk edit: all or nothing, and a refusal names every refused object.

Nautobot 3.2.7 already runs both bulk edits in one transaction: the UI's "Edit Selected" enqueues the "Bulk Edit
Objects" system Job, whose loop runs inside ``deferred_change_logging_for_bulk_operation()`` (an atomic block), and
REST bulk PATCH/PUT runs ``perform_bulk_update`` inside ``transaction.atomic()``. So one refused object already
leaves the others unchanged (``tests/test_bulk_edit.py`` shows it). What Nautobot leaves rough is the message: it
stops at the first refusal and says what was wrong without saying which object. Here:

* UI: :class:`BulkEditRefusalsViewMixin` tries the edit on every selected object in memory (``full_clean()``, nothing
  saved) before the Job is enqueued; any refusal is a form error per object (``<object>: <field>: <message>``) and no
  Job runs. "Edit all" over more than :data:`PRECHECK_LIMIT` objects goes straight to the Job (still atomic).
* REST: :func:`bulk_update_naming_refusals` validates every object of the request, then raises one 400 listing each
  refused object by id and name; nothing is saved unless all are valid.
"""

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from nautobot.apps.forms import restrict_form_fields
from rest_framework.exceptions import ValidationError as DRFValidationError

# Selections up to this size are checked in the request; beyond it the Job's own (atomic) run is the check.
PRECHECK_LIMIT = 1000


def apply_bulk_edit(obj, form_data, nullified):
    """Set the model fields a bulk edit form sets on `obj` (in memory), as Nautobot's Bulk Edit Objects Job does.

    A field named in `nullified` is cleared; any other field with a value is set; blanks leave the field alone.
    Many-to-many fields, custom fields and relationships are left to the Job (they do not take part in clean()).
    """
    for name, value in form_data.items():
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not field.concrete or field.many_to_many:
            continue
        if name in nullified:
            setattr(obj, name, None if field.null else "")
        elif value not in (None, "", []):
            setattr(obj, name, value)


def refusal_messages(obj, error):
    """'<object>: <field>: <message>' for each message of a Django ValidationError raised by `obj.full_clean()`."""
    if hasattr(error, "error_dict"):
        return [
            f"{obj}: {field}: {message}" if field != "__all__" else f"{obj}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [f"{obj}: {message}" for message in error.messages]


def bulk_edit_refusals(objects, form_data, nullified=()):
    """Every refusal (as messages naming the object) of applying `form_data` to each of `objects`; nothing saved."""
    refusals = []
    for obj in objects:
        apply_bulk_edit(obj, form_data, set(nullified))
        try:
            obj.full_clean()
        except ValidationError as error:
            refusals += refusal_messages(obj, error)
    return refusals


class BulkEditRefusalsViewMixin:
    """Put before NautobotUIViewSet: a bulk edit that clean() refuses for any selected object is a form error.

    Overrides ``send_bulk_edit_objects_to_job``, the hook Nautobot's ``perform_bulk_update`` calls with the valid
    form's data just before it enqueues the Bulk Edit Objects Job.
    """

    def send_bulk_edit_objects_to_job(self, request, form_data):
        """Check the edit on the selected objects; enqueue Nautobot's Job only when every one accepts it."""
        model = self.queryset.model
        selected = model.objects.restrict(request.user, "change")
        if self.key_params.get("edit_all"):
            selected = None
        else:
            selected = selected.filter(pk__in=self.pk_list)
        if selected is not None and selected.count() <= PRECHECK_LIMIT:
            refusals = bulk_edit_refusals(selected.iterator(), form_data, request.POST.getlist("_nullify"))
            if refusals:
                form = self.get_form_class()(model, request.POST, edit_all=False)
                restrict_form_fields(form, request.user)
                form.is_valid()
                count = len({message.split(": ", 1)[0] for message in refusals})
                form.add_error(None, f"Nothing was changed: the edit is refused for {count} of the selected objects.")
                for message in refusals:
                    form.add_error(None, message)
                return self.form_invalid(form)
        return super().send_bulk_edit_objects_to_job(request, form_data)


def bulk_update_naming_refusals(viewset, objects, update_data, partial):
    """REST bulk update, all or nothing, that reports every refused object by id and name.

    Each object is validated and saved in turn inside one transaction (as Nautobot's ``perform_bulk_update``); a
    refused object is noted and the rest still validated, so the 400 lists them all; then everything is rolled back.
    """
    refused = []
    with transaction.atomic():
        data_list = []
        for obj in objects:
            serializer = viewset.get_serializer(obj, data=update_data.get(str(obj.id)), partial=partial)
            if not serializer.is_valid():
                refused.append({"id": str(obj.pk), "display": str(obj), "errors": serializer.errors})
                continue
            if refused:
                continue  # nothing will be kept: no need to save
            viewset.perform_update(serializer)
            data_list.append(serializer.data)
        if refused:
            raise DRFValidationError(
                {"detail": f"Nothing was changed: {len(refused)} object(s) refused.", "refused": refused}
            )
        return data_list
