"""Who may see what: the one helper every service uses to restrict a queryset to a user."""


def restrict(queryset, user, action="view"):
    """Limit a queryset to what `user` may see; no user means an internal, unrestricted call."""
    return queryset.restrict(user, action) if user is not None else queryset
