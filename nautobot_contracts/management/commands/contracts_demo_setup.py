"""`nautobot-server contracts_demo_setup`: the demo's superuser, its stable API token and the app's Jobs enabled."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from nautobot.extras.models import Job
from nautobot.users.models import Token, User

APP = "nautobot_contracts"
DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "admin"  # noqa: S105 (a local demo's documented credentials)
TOKEN_DESCRIPTION = "nautobot-contracts demo (make demo)"  # noqa: S105 (a label, not a secret)


class Command(BaseCommand):
    """Make the demo ready to log in to: idempotent, so `make demo` prints the same token on every run."""

    help = (
        "Create (or repair) the demo superuser, give it one API token (kept across runs) and enable the app's Jobs. "
        "The last line of output is TOKEN=<key>, for scripts. For local development only."
    )

    def add_arguments(self, parser):
        """Username, password and token description."""
        parser.add_argument("--username", default=DEFAULT_USERNAME)
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument("--token-description", default=TOKEN_DESCRIPTION)

    def handle(self, *args, username, password, token_description, **options):
        """Set up the user, token and Jobs in one transaction; print what changed, then the token."""
        if not username or not password:
            raise CommandError("--username and --password must not be empty.")
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_superuser(username, f"{username}@example.com", password)
                self.stdout.write(f"Created superuser {username}")
            elif not (user.is_superuser and user.is_staff and user.is_active and user.check_password(password)):
                user.is_superuser = user.is_staff = user.is_active = True
                user.set_password(password)
                user.save()
                self.stdout.write(f"Reset superuser {username}")

            tokens = Token.objects.with_sensitive_fields("key").filter(user=user, description=token_description)
            token = tokens.order_by("created").first()
            if token is None:
                Token.objects.create(user=user, description=token_description, write_enabled=True)
                token = tokens.get()
                self.stdout.write(f"Created API token for {username}")
            elif token.is_expired or not token.write_enabled:
                tokens.filter(pk=token.pk).update(expires=None, write_enabled=True)

            jobs = Job.objects.filter(module_name__startswith=APP)
            enabled = jobs.filter(enabled=False).update(enabled=True)
            self.stdout.write(f"App Jobs: {jobs.count()} installed, {enabled} newly enabled")
        self.stdout.write(f"TOKEN={token.key}")
