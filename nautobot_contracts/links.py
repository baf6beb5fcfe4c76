"""Absolute URLs of many objects' pages, reversing each model's URL once."""

from django.urls import NoReverseMatch


class ObjectLinks:
    """`links(obj)`: the URL of `obj`'s page (with an optional prefix), or '' when it has none.

    Nautobot's get_absolute_url tries up to three URL names per call, which dominated writing thousands of Job log
    lines or rendering a digest of thousands of alerts; the pattern of one object serves every object of its model.
    """

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.patterns = {}  # model -> (a URL of one object, that object's pk as text) or None

    def __call__(self, obj):
        """The URL of `obj`'s page, or '' when it has none."""
        if obj is None or not hasattr(obj, "get_absolute_url"):
            return ""
        if getattr(obj, "pk", None) is None:  # not a saved model instance (e.g. a log target with its own URL)
            return f"{self.prefix}{obj.get_absolute_url() or ''}"
        model = type(obj)
        if model not in self.patterns:
            try:
                url = obj.get_absolute_url()
            except (AttributeError, NoReverseMatch):
                url = None
            self.patterns[model] = (url, str(obj.pk)) if url else None
        pattern = self.patterns[model]
        if pattern is None:
            return ""
        url, pk = pattern
        return f"{self.prefix}{url.replace(pk, str(obj.pk)) if pk in url else obj.get_absolute_url()}"
