"""Personal calendar feed tokens: the feed URL carries the secret, the database keeps only its SHA-256."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from nautobot.apps.models import BaseModel

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 43 URL-safe characters, 256 bits of randomness


def hash_token(secret):
    """The stored form of a token: hex SHA-256 (the secret is random, so no salt or slow hash is needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class FeedToken(BaseModel):
    """A user's personal token for the renewal calendar feed; the feed shows what that user may view."""

    user = models.ForeignKey(
        to=settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contracts_feed_tokens"
    )
    name = models.CharField(max_length=100, help_text="What this token is for, e.g. the calendar app using it")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(blank=True, null=True, editable=False)

    natural_key_field_names = ["key_hash"]

    class Meta:
        ordering = ["user", "-created"]
        verbose_name = "feed token"

    def __str__(self):
        return self.name

    @classmethod
    def issue(cls, user, name):
        """Create a token for `user`; returns (token, secret). The secret exists only in this return value."""
        secret = secrets.token_urlsafe(TOKEN_BYTES)
        return cls.objects.create(user=user, name=name, key_hash=hash_token(secret)), secret

    @classmethod
    def lookup(cls, secret):
        """The token whose secret this is, with its user, or None (unknown or revoked)."""
        if not secret or len(secret) > 128:
            return None
        return cls.objects.select_related("user").filter(key_hash=hash_token(secret), user__is_active=True).first()
