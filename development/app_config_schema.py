"""Validate the app's settings against nautobot_contracts/app-config-schema.json (`invoke validate-app-config`).

The schema documents every setting (type, bounds, default); the tests check that it lists exactly the app's
``default_settings`` with the same defaults, so the two cannot drift apart.
"""

import json
import os
from pathlib import Path
import sys

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "nautobot_contracts" / "app-config-schema.json"
APP = "nautobot_contracts"


def load_schema(path=SCHEMA_PATH):
    """The app config schema, checked to be a valid JSON Schema itself."""
    schema = json.loads(Path(path).read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    return schema


def errors(config, schema=None):
    """Human-readable problems of ``config`` (a PLUGINS_CONFIG entry), one per line, most specific first."""
    schema = schema or load_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    found = sorted(validator.iter_errors(config), key=lambda error: list(error.path))
    return [f"{'.'.join(map(str, error.path)) or '(settings)'}: {error.message}" for error in found]


def main():
    """Validate the PLUGINS_CONFIG of development/nautobot_config.py, as Nautobot merged it with the defaults."""
    os.environ.setdefault("NAUTOBOT_ROOT", str(ROOT / ".local" / "nautobot"))
    import nautobot  # pylint: disable=import-outside-toplevel

    nautobot.setup(config_path=str(ROOT / "development" / "nautobot_config.py"))
    from django.conf import settings  # pylint: disable=import-outside-toplevel

    problems = errors(settings.PLUGINS_CONFIG.get(APP, {}))
    for problem in problems:
        print(f"PLUGINS_CONFIG[{APP!r}] {problem}", file=sys.stderr)
    if not problems:
        print(f"PLUGINS_CONFIG[{APP!r}] is valid against {SCHEMA_PATH.relative_to(ROOT)}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
