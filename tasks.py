"""Developer tasks for nautobot-contracts: `invoke --list` shows them, `invoke --help TASK` explains one.

Local mode (the default) needs no Docker: every Nautobot command runs as
``.venv/bin/nautobot-server --config development/nautobot_config.py ...`` with ``NAUTOBOT_ROOT=.local/nautobot``.
The tasks stay thin: finding or starting PostgreSQL and Redis and supervising the web server (uWSGI), Celery worker
and Celery beat live in ``development/local_services.py``; the demo's set-up steps are the app's management commands
``contracts_demo_setup`` and ``load_contracts_demo_data``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
import shlex
import shutil
import subprocess
import sys

from invoke import Exit, task as invoke_task

from development import local_services as services

ROOT = Path(__file__).resolve().parent
APP = "nautobot_contracts"
DEV_DIR = ROOT / "development"
LOG_DIR = services.LOG_DIR
WEB_URL = f"http://{services.WEB_HOST}:{services.WEB_PORT}"
DEMO_USER, DEMO_PASSWORD = "admin", "admin"
DEMO_SETUP_COMMAND = "contracts_demo_setup"
DEMO_DATA_COMMAND = "load_contracts_demo_data"
APP_CONFIG_SCHEMA = ROOT / APP / "app-config-schema.json"

COMPOSE_PROJECT = "nautobot-contracts"
COMPOSE_FILES = [
    "docker-compose.base.yml",
    "docker-compose.postgres.yml",
    "docker-compose.redis.yml",
    "docker-compose.dev.yml",
]


def task(*args, **kwargs):
    """invoke's @task, reporting a ServiceError as a clean task failure (message, exit code 1)."""

    def decorate(body):
        @functools.wraps(body)
        def run(*a, **kw):
            try:
                return body(*a, **kw)
            except services.ServiceError as exc:
                raise Exit(str(exc), code=1)

        return invoke_task(*args, **kwargs)(run)

    if len(args) == 1 and callable(args[0]) and not kwargs:
        body, args = args[0], ()
        return decorate(body)
    return decorate


# --------------------------------------------------------------------------------------------------------------------
# Running commands
# --------------------------------------------------------------------------------------------------------------------


def _show(cmd):
    """Print a command the way a developer would type it from the repository root."""
    print(f"==> {shlex.join(str(part) for part in cmd).replace(f'{ROOT}/', '')}", flush=True)


def _run(cmd, env=None, check=True, capture=False):
    """Run a command (output inherited, or captured); fail the task on a non-zero exit."""
    _show(cmd)
    result = subprocess.run(
        [str(part) for part in cmd], cwd=ROOT, env=env, text=True, capture_output=capture, check=False
    )
    if check and result.returncode != 0:
        if capture:
            sys.stderr.write((result.stdout or "") + (result.stderr or ""))
        raise Exit(f"Command failed with exit code {result.returncode}: {shlex.join(map(str, cmd))}", code=1)
    return result


def _venv_tool(name):
    """Path of a console script in the project's virtualenv; fail with a hint when the venv is missing."""
    path = services.VENV_BIN / name
    if not path.exists():
        raise Exit(f"{path} not found: create the virtualenv first (`make bootstrap`).", code=1)
    return path


def _nautobot(env, *args, **kwargs):
    """Run ``nautobot-server`` with the development configuration."""
    _venv_tool("nautobot-server")
    return _run(services.nautobot_cmd(*args), env=env, **kwargs)


def _dev_env():
    """The services found or started, and the development database created if missing."""
    env = services.ensure_services()
    services.ensure_database(env)
    return env


def _start_processes(env, timeout):
    services.start_and_wait(services.nautobot_supervisor(), env, f"{WEB_URL}/login/", timeout=int(timeout))


def _print_running(token=None):
    print()
    print(f"Nautobot is running at {WEB_URL}/")
    if token:
        print(f"  login:      {DEMO_USER} / {DEMO_PASSWORD}")
        print(f"  API token:  {token}")
        print(f'  try:        curl -H "Authorization: Token {token}" {WEB_URL}/api/plugins/contracts/')
    logs = (str((LOG_DIR / f"{name}.log").relative_to(ROOT)) for name in services.PROCESSES)
    print("  logs:       " + ", ".join(logs))
    print(f"  mail:       {services.mail_destination()}")
    print("  stop with:  make stop")


# --------------------------------------------------------------------------------------------------------------------
# Tasks: local mode
# --------------------------------------------------------------------------------------------------------------------


@task(help={"timeout": "Seconds to wait for the login page (default 300)."})
def demo(c, timeout=300):
    """Run a ready-to-use Nautobot with the app: services, migrations, admin/admin + API token, demo data, web/worker/beat."""  # noqa: E501
    supervisor = services.nautobot_supervisor()
    if any(supervisor.running(name) for name in services.PROCESSES):
        print("Nautobot processes are already running: restarting them cleanly.", flush=True)
        supervisor.stop_all()
    env = _dev_env()
    _nautobot(env, "migrate", "--no-input")
    result = _nautobot(env, DEMO_SETUP_COMMAND, "--username", DEMO_USER, "--password", DEMO_PASSWORD, capture=True)
    token = None
    for line in result.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key == "TOKEN":
            token = value
        else:
            print(line)
    if not token:
        raise Exit(f"{DEMO_SETUP_COMMAND} printed no API token:\n{result.stdout}\n{result.stderr}", code=1)
    _nautobot(env, DEMO_DATA_COMMAND)
    _nautobot(env, "collectstatic", "--no-input", "-v", "0")
    _start_processes(env, timeout)
    _print_running(token)


@task(help={"timeout": "Seconds to wait for the login page (default 300)."})
def start(c, timeout=300):
    """Start (or restart) web, Celery worker and Celery beat in the background; applies pending migrations first."""
    env = _dev_env()
    _nautobot(env, "migrate", "--no-input")
    # uWSGI serves the static files from STATIC_ROOT (runserver used to find them in the apps).
    _nautobot(env, "collectstatic", "--no-input", "-v", "0")
    _start_processes(env, timeout)
    _print_running()
    print("  (log in with a superuser: `invoke createsuperuser`, or run `make demo` for admin/admin)")


@task
def stop(c):
    """Stop everything `demo`/`start` started, then the project-local PostgreSQL/Redis (never system services)."""
    services.nautobot_supervisor().stop_all()
    services.stop_local_redis()
    services.stop_local_postgres()
    print("Stopped.")


@task
def status(c):
    """Show the background processes and the project-local service instances."""
    supervisor = services.nautobot_supervisor()
    for name in services.PROCESSES:
        pid = supervisor.running(name)
        state = f"running (process group {pid})" if pid else "stopped"
        print(f"{name:8} {state}  log: {supervisor.log_path(name).relative_to(ROOT)}")
    pg_port, redis_port = services.LOCAL_PG_PORT, services.LOCAL_REDIS_PORT
    pg = services.postgres_answers("127.0.0.1", pg_port) and services.local_postgres_running()
    print(f"local PostgreSQL (127.0.0.1:{pg_port}): {'running' if pg else 'not running'}")
    print(f"local Redis (127.0.0.1:{redis_port}): {'running' if services.local_redis_pid() else 'not running'}")


@task
def migrate(c):
    """Apply database migrations to the development database."""
    _nautobot(_dev_env(), "migrate", "--no-input")


@task(help={"name": "Name for the new migration (optional)."})
def makemigrations(c, name=""):
    """Create new migrations for the app."""
    _nautobot(_dev_env(), "makemigrations", APP, *(["--name", name] if name else []))


@task
def check_migrations(c):
    """Fail if the app's models have changes without a migration (makemigrations --check --dry-run)."""
    _nautobot(_dev_env(), "makemigrations", APP, "--check", "--dry-run")


@task
def nbshell(c):
    """Open an interactive Nautobot shell (nbshell) against the development database."""
    _nautobot(_dev_env(), "nbshell")


@task
def createsuperuser(c):
    """Create a Nautobot superuser interactively."""
    _nautobot(_dev_env(), "createsuperuser")


@task
def validate_app_config(c):
    """Validate the development PLUGINS_CONFIG (merged with the app's defaults) against app-config-schema.json."""
    env = {**os.environ, "NAUTOBOT_ROOT": str(services.NAUTOBOT_ROOT)}
    _run([_venv_tool("python"), DEV_DIR / "app_config_schema.py"], env=env)


@task(
    help={
        "fresh": "Rebuild the test database from scratch (--create-db, ~5 minutes of migrations).",
        "keyword": "Only run tests matching this pytest -k expression.",
        "path": "Test file, directory or node id to run (default: the tests/ folder).",
        "extra": 'Extra pytest arguments, as one string (e.g. "-x -vv").',
    }
)
def tests(c, fresh=False, keyword="", path="", extra=""):
    """Run the test suite with pytest; by default it reuses the test database (migrations are still applied)."""
    env = services.ensure_services()
    cmd = [_venv_tool("pytest"), "--reuse-db"]
    if fresh:
        cmd.append("--create-db")
    if keyword:
        cmd += ["-k", keyword]
    cmd += shlex.split(extra)
    if path:
        cmd.append(path)
    result = _run(cmd, env=env, check=False)
    if result.returncode == 5:
        print("pytest collected no tests (exit code 5); not treated as a failure.")
        return
    if result.returncode != 0:
        raise Exit(code=result.returncode)


@task
def ruff(c):
    """Lint and check formatting with ruff (`ruff check .` and `ruff format --check .`)."""
    ruff_bin = _venv_tool("ruff")
    failed = [
        cmd
        for cmd in ([ruff_bin, "check", "."], [ruff_bin, "format", "--check", "."])
        if _run(cmd, check=False).returncode != 0
    ]
    if failed:
        raise Exit("ruff found problems (`ruff check --fix .` and `ruff format .` fix most).", code=1)


@task
def docs(c):
    """Build the documentation with `mkdocs build --strict` (mkdocs.yml sets the output folder)."""
    if not (ROOT / "mkdocs.yml").exists():
        raise Exit("mkdocs.yml does not exist yet: there is no documentation site to build.", code=1)
    # NO_MKDOCS_2_WARNING silences mkdocs-material's banner about its successor.
    _run([_venv_tool("mkdocs"), "build", "--strict"], env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


# --------------------------------------------------------------------------------------------------------------------
# Tasks: Docker Compose (needs a Docker engine)
# --------------------------------------------------------------------------------------------------------------------


def _require_docker():
    """Fail clearly unless a Docker engine answers `docker info`."""
    try:
        answered = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        answered = False
    if not answered:
        raise Exit(
            "Docker is not available on this machine (`docker info` got no answer from a Docker engine).\n"
            "Use the local mode instead: `make demo`, `make test`, `make stop`.",
            code=1,
        )


def _compose(*args):
    _require_docker()
    cmd = ["docker", "compose", "--project-name", COMPOSE_PROJECT, "--project-directory", DEV_DIR]
    for name in COMPOSE_FILES:
        cmd += ["-f", DEV_DIR / name]
    _run([*cmd, *args])


@task
def docker_build(c):
    """Docker: build the development image (development/Dockerfile)."""
    _compose("build")


@task
def docker_up(c):
    """Docker: start db, redis, nautobot (http://127.0.0.1:8080), celery_worker and celery_beat in the background."""
    _require_docker()
    creds = DEV_DIR / "creds.env"
    if not creds.exists():
        shutil.copyfile(DEV_DIR / "creds.example.env", creds)
        print("Created development/creds.env from creds.example.env (change the passwords there).")
    _compose("up", "--detach")


@task
def docker_down(c):
    """Docker: stop and remove the containers (volumes are kept)."""
    _compose("down")


@task
def docker_logs(c):
    """Docker: follow the containers' logs."""
    _compose("logs", "--follow")


@task(
    help={
        "scale": "Data-set scale: 1.0 = 100k devices (default); 0.01 for a quick run.",
        "db": "Benchmark database name (default: nautobot_contracts_bench[_<scale>]).",
        "rebuild": "Drop and rebuild the benchmark database first.",
    }
)
def benchmark(c, scale=1.0, db="", rebuild=False):
    """Time coverage, the Contracts panel, REST lists and the Jobs on a synthetic data set in its own database."""
    env = services.ensure_services()
    cmd = [_venv_tool("python"), DEV_DIR / "benchmark.py", "--scale", str(scale)]
    cmd += (["--db", db] if db else []) + (["--rebuild"] if rebuild else [])
    _run(cmd, env=env)
