"""Developer tasks for nautobot-contracts: `invoke --list` shows them, `invoke --help TASK` explains one.

Local mode (the default) needs no Docker: every Nautobot command runs as
``.venv/bin/nautobot-server --config development/nautobot_config.py ...`` with ``NAUTOBOT_ROOT=.local/nautobot``.

Services. PostgreSQL and Redis are looked for where the environment says (``NAUTOBOT_DB_HOST``/``NAUTOBOT_DB_PORT``,
default 127.0.0.1:5432; ``NAUTOBOT_REDIS_HOST``/``NAUTOBOT_REDIS_PORT``, default 127.0.0.1:6379). Where nothing answers
on a local address, a project-local instance is used instead, started from the system binaries if it is not running
yet: PostgreSQL on 127.0.0.1:54329 (data in ``.local/postgres``, trust auth, superuser ``postgres``) and Redis on
127.0.0.1:63799 (``.local/redis``, nothing kept on disk). ``NAUTOBOT_LOCAL_DB_PORT``/``NAUTOBOT_LOCAL_REDIS_PORT``
change those two ports. ``invoke stop`` stops the Nautobot processes and then only these project-local instances.

Processes. ``invoke demo``/``invoke start`` run the web server, a Celery worker and Celery beat in the background, each
in its own session, with pidfiles in ``.local/run`` and logs in ``.local/logs``.
"""

from __future__ import annotations

import os
from pathlib import Path
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

from invoke import Exit, task

ROOT = Path(__file__).resolve().parent
APP = "nautobot_contracts"
VENV_BIN = ROOT / ".venv" / "bin"
NAUTOBOT_CONFIG = ROOT / "development" / "nautobot_config.py"
DEV_DIR = ROOT / "development"

LOCAL = ROOT / ".local"
NAUTOBOT_ROOT = LOCAL / "nautobot"
RUN_DIR = LOCAL / "run"
LOG_DIR = LOCAL / "logs"
PG_DIR = LOCAL / "postgres"
PG_DATA = PG_DIR / "data"
REDIS_DIR = LOCAL / "redis"

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_PG_PORT = int(os.getenv("NAUTOBOT_LOCAL_DB_PORT", "54329"))
LOCAL_REDIS_PORT = int(os.getenv("NAUTOBOT_LOCAL_REDIS_PORT", "63799"))
INSTALL_HINT = "sudo apt-get install -y postgresql redis-server"

WEB_HOST, WEB_PORT = "127.0.0.1", 8080
WEB_URL = f"http://{WEB_HOST}:{WEB_PORT}"
DEMO_USER, DEMO_PASSWORD = "admin", "admin"
DEMO_API_LABEL = "nautobot-contracts demo (make demo)"
DEMO_DATA_COMMAND = "load_contracts_demo_data"

# The background processes of `demo`/`start`: name -> nautobot-server arguments.
PROCESSES = {
    "web": ["runserver", f"{WEB_HOST}:{WEB_PORT}", "--insecure", "--noreload"],
    "worker": ["celery", "worker", "-l", "INFO"],
    "beat": ["celery", "beat", "-l", "INFO"],
}

COMPOSE_PROJECT = "nautobot-contracts"
COMPOSE_FILES = [
    "docker-compose.base.yml",
    "docker-compose.postgres.yml",
    "docker-compose.redis.yml",
    "docker-compose.dev.yml",
]


# --------------------------------------------------------------------------------------------------------------------
# Running commands
# --------------------------------------------------------------------------------------------------------------------


def _show(cmd):
    """Print a command the way a developer would type it from the repository root."""
    text = shlex.join(str(part) for part in cmd).replace(f"{ROOT}/", "")
    print(f"==> {text}", flush=True)


def _run(cmd, env=None, check=True, capture=False, quiet=False, display=None):
    """Run a command with inherited stdin/stdout/stderr (or captured output); fail the task on a non-zero exit.

    ``display`` replaces the command in the printed line (for commands carrying a long script).
    """
    if not quiet:
        _show(display or cmd)
    result = subprocess.run(
        [str(part) for part in cmd],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=capture,
        check=False,
    )
    if check and result.returncode != 0:
        if capture:
            sys.stderr.write((result.stdout or "") + (result.stderr or ""))
        shown = shlex.join(str(part) for part in (display or cmd))
        raise Exit(f"Command failed with exit code {result.returncode}: {shown}", code=1)
    return result


def _venv_tool(name):
    """Path of a console script in the project's virtualenv; fail with a hint when the venv is missing."""
    path = VENV_BIN / name
    if not path.exists():
        raise Exit(f"{path} not found: create the virtualenv first (`make bootstrap`).", code=1)
    return path


def _nautobot_cmd(*args):
    """The full nautobot-server command line for ``args``."""
    return [_venv_tool("nautobot-server"), "--config", NAUTOBOT_CONFIG, *args]


def _nautobot(env, *args, **kwargs):
    """Run ``nautobot-server`` with the development configuration."""
    return _run(_nautobot_cmd(*args), env=env, **kwargs)


# --------------------------------------------------------------------------------------------------------------------
# Service discovery: PostgreSQL and Redis
# --------------------------------------------------------------------------------------------------------------------


def postgres_answers(host, port, timeout=2.0):
    """Whether a PostgreSQL server answers on host:port (it replies 'S' or 'N' to an SSLRequest)."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.sendall(struct.pack("!ii", 8, 80877103))
            return sock.recv(1) in (b"S", b"N")
    except OSError:
        return False


def redis_answers(host, port, timeout=2.0):
    """Whether a Redis server answers PING on host:port (a NOAUTH error also counts as an answer)."""
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def _wait_until(predicate, timeout, interval=0.5):
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _missing_binaries(what):
    """Fail with the install command for the services' binaries."""
    raise Exit(f"{what} not found on this machine. Install the services with:\n\n    {INSTALL_HINT}\n", code=1)


def _as_postgres_user():
    """Command prefix that runs PostgreSQL's server tools as the `postgres` OS user when we are root."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("runuser"):
        raise Exit("Running as root, but `runuser` is not available to run initdb/pg_ctl as `postgres`.", code=1)
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        raise Exit(f"Running as root, but there is no `postgres` OS user. Install PostgreSQL: {INSTALL_HINT}", code=1)
    return ["runuser", "-u", "postgres", "--"]


def find_postgres_bindir():
    """Directory holding initdb and pg_ctl: the version that made .local/postgres, else PATH, else the newest."""
    candidates = []
    version_file = PG_DATA / "PG_VERSION"
    if version_file.exists():
        candidates.append(Path("/usr/lib/postgresql") / version_file.read_text().strip() / "bin")
    for tool in ("pg_ctl", "initdb"):
        found = shutil.which(tool)
        if found:
            candidates.append(Path(found).resolve().parent)

    def version_key(path):
        try:
            return float(path.parent.name)
        except ValueError:
            return 0.0

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version_key, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def local_postgres_running(bindir=None):
    """Whether the project-local PostgreSQL cluster in .local/postgres/data is running."""
    bindir = bindir or find_postgres_bindir()
    if bindir is None or not (PG_DATA / "PG_VERSION").exists():
        return False
    result = subprocess.run(
        [*_as_postgres_user(), str(bindir / "pg_ctl"), "-D", str(PG_DATA), "status"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def start_local_postgres():
    """Create (once) and start the project-local PostgreSQL cluster on 127.0.0.1:LOCAL_PG_PORT."""
    bindir = find_postgres_bindir()
    if bindir is None:
        _missing_binaries("PostgreSQL server binaries (initdb, pg_ctl)")
    as_postgres = _as_postgres_user()
    PG_DIR.mkdir(parents=True, exist_ok=True)
    if as_postgres:
        shutil.chown(PG_DIR, user="postgres", group="postgres")
        if subprocess.run([*as_postgres, "test", "-w", str(PG_DIR)], check=False).returncode != 0:
            raise Exit(
                f"The `postgres` OS user cannot write to {PG_DIR} (is a parent directory not world-searchable?). "
                "Move the clone somewhere readable, or point NAUTOBOT_DB_HOST/NAUTOBOT_DB_PORT at a running server.",
                code=1,
            )
    if not (PG_DATA / "PG_VERSION").exists():
        print(f"Creating a project-local PostgreSQL cluster in {PG_DATA.relative_to(ROOT)} ...", flush=True)
        initdb = [bindir / "initdb", "-D", PG_DATA, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]
        _run([*as_postgres, *initdb], capture=True, quiet=True)
        with (PG_DATA / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# nautobot-contracts local development instance (tasks.py)\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "max_connections = 200\n"
                "# Throwaway data: trade durability for speed.\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
    print(f"Starting the project-local PostgreSQL on 127.0.0.1:{LOCAL_PG_PORT} ...", flush=True)
    pg_ctl = [bindir / "pg_ctl", "-D", PG_DATA, "-l", PG_DIR / "postgres.log", "-o", f"-p {LOCAL_PG_PORT}", "-w"]
    _run([*as_postgres, *pg_ctl, "-t", "120", "start"], capture=True, quiet=True)
    if not _wait_until(lambda: postgres_answers("127.0.0.1", LOCAL_PG_PORT), 60):
        raise Exit(f"The local PostgreSQL did not answer on port {LOCAL_PG_PORT}; see .local/postgres/postgres.log", 1)
    _write_marker("postgres", f"127.0.0.1:{LOCAL_PG_PORT} {PG_DATA}")


def stop_local_postgres():
    """Stop the project-local PostgreSQL cluster if it runs (never any other server)."""
    bindir = find_postgres_bindir()
    if bindir is not None and local_postgres_running(bindir):
        print("Stopping the project-local PostgreSQL ...", flush=True)
        _run([*_as_postgres_user(), bindir / "pg_ctl", "-D", PG_DATA, "-m", "fast", "-w", "stop"], capture=True)
    _remove_marker("postgres")


def ensure_postgres():
    """Find a PostgreSQL server to use and return the NAUTOBOT_DB_* settings that point at it."""
    host = os.getenv("NAUTOBOT_DB_HOST", "127.0.0.1")
    port = int(os.getenv("NAUTOBOT_DB_PORT", "5432"))
    if postgres_answers(host, port):
        print(f"PostgreSQL: using {host}:{port}", flush=True)
        return {"NAUTOBOT_DB_HOST": host, "NAUTOBOT_DB_PORT": str(port)}
    if host not in LOCAL_HOSTS:
        raise Exit(f"PostgreSQL does not answer on {host}:{port} (NAUTOBOT_DB_HOST/NAUTOBOT_DB_PORT).", code=1)
    if postgres_answers("127.0.0.1", LOCAL_PG_PORT):
        print(f"PostgreSQL: nothing answers on {host}:{port}; using the local instance on 127.0.0.1:{LOCAL_PG_PORT}")
    else:
        print(f"PostgreSQL: nothing answers on {host}:{port}.", flush=True)
        start_local_postgres()
    # The local cluster has only the `postgres` superuser, with trust authentication.
    return {
        "NAUTOBOT_DB_HOST": "127.0.0.1",
        "NAUTOBOT_DB_PORT": str(LOCAL_PG_PORT),
        "NAUTOBOT_DB_USER": "postgres",
        "NAUTOBOT_DB_PASSWORD": "",
    }


def _redis_pid():
    """PID of the project-local redis-server from its pidfile, if that process is still a redis-server."""
    try:
        pid = int((REDIS_DIR / "redis.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if "redis-server" in cmdline and f":{LOCAL_REDIS_PORT}" in cmdline else None


def start_local_redis():
    """Start the project-local Redis on 127.0.0.1:LOCAL_REDIS_PORT (no persistence)."""
    redis_server = shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).is_file()), None
    )
    if redis_server is None:
        _missing_binaries("redis-server")
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    print(f"Starting the project-local Redis on 127.0.0.1:{LOCAL_REDIS_PORT} ...", flush=True)
    # `--save ""` is passed as a separate, empty argument: no RDB snapshots.
    cmd = [redis_server, "--port", str(LOCAL_REDIS_PORT), "--bind", "127.0.0.1", "--daemonize", "yes"]
    cmd += ["--save", "", "--appendonly", "no", "--dir", REDIS_DIR]
    cmd += ["--pidfile", REDIS_DIR / "redis.pid", "--logfile", REDIS_DIR / "redis.log"]
    _run(cmd, capture=True, quiet=True)
    if not _wait_until(lambda: redis_answers("127.0.0.1", LOCAL_REDIS_PORT), 30):
        raise Exit(f"The local Redis did not answer on port {LOCAL_REDIS_PORT}; see .local/redis/redis.log", code=1)
    _write_marker("redis", f"127.0.0.1:{LOCAL_REDIS_PORT} pidfile {REDIS_DIR / 'redis.pid'}")


def stop_local_redis():
    """Stop the project-local Redis if it runs (never any other server)."""
    pid = _redis_pid()
    if pid is not None:
        print("Stopping the project-local Redis ...", flush=True)
        os.kill(pid, signal.SIGTERM)
        if not _wait_until(lambda: not _pid_alive(pid), 15):
            os.kill(pid, signal.SIGKILL)
    _remove_marker("redis")


def ensure_redis():
    """Find a Redis server to use and return the NAUTOBOT_REDIS_* settings that point at it."""
    host = os.getenv("NAUTOBOT_REDIS_HOST", "127.0.0.1")
    port = int(os.getenv("NAUTOBOT_REDIS_PORT", "6379"))
    if redis_answers(host, port):
        print(f"Redis: using {host}:{port}", flush=True)
        return {"NAUTOBOT_REDIS_HOST": host, "NAUTOBOT_REDIS_PORT": str(port)}
    if host not in LOCAL_HOSTS:
        raise Exit(f"Redis does not answer on {host}:{port} (NAUTOBOT_REDIS_HOST/NAUTOBOT_REDIS_PORT).", code=1)
    if redis_answers("127.0.0.1", LOCAL_REDIS_PORT):
        print(f"Redis: nothing answers on {host}:{port}; using the local instance on 127.0.0.1:{LOCAL_REDIS_PORT}")
    else:
        print(f"Redis: nothing answers on {host}:{port}.", flush=True)
        start_local_redis()
    return {
        "NAUTOBOT_REDIS_HOST": "127.0.0.1",
        "NAUTOBOT_REDIS_PORT": str(LOCAL_REDIS_PORT),
        "NAUTOBOT_REDIS_PASSWORD": "",
        "NAUTOBOT_REDIS_SSL": "false",
    }


def ensure_services():
    """Environment for nautobot-server: NAUTOBOT_ROOT plus the PostgreSQL and Redis that answer (or were started)."""
    env = os.environ.copy()
    env["NAUTOBOT_ROOT"] = str(NAUTOBOT_ROOT)
    NAUTOBOT_ROOT.mkdir(parents=True, exist_ok=True)
    env.update(ensure_postgres())
    env.update(ensure_redis())
    return env


def ensure_database(env):
    """Create the development database (NAUTOBOT_DB_NAME, default nautobot_contracts) if it does not exist."""
    import psycopg2  # from the virtualenv (a Nautobot dependency)
    from psycopg2 import sql

    name = env.get("NAUTOBOT_DB_NAME", "nautobot_contracts")
    try:
        conn = psycopg2.connect(
            host=env["NAUTOBOT_DB_HOST"],
            port=env["NAUTOBOT_DB_PORT"],
            user=env.get("NAUTOBOT_DB_USER", "postgres"),
            password=env.get("NAUTOBOT_DB_PASSWORD", ""),
            dbname="postgres",
            connect_timeout=10,
        )
    except psycopg2.Error as exc:
        raise Exit(f"Cannot connect to PostgreSQL to check for database {name!r}: {exc}", code=1)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                print(f"Creating database {name} ...", flush=True)
                try:
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                except psycopg2.errors.DuplicateDatabase:
                    pass  # created meanwhile by a concurrent task
    finally:
        conn.close()


def _write_marker(service, text):
    """Record in .local/run that the project started a local service instance."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / f"{service}.started").write_text(text + "\n")


def _remove_marker(service):
    (RUN_DIR / f"{service}.started").unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------------------------------
# Background processes: web, worker, beat
# --------------------------------------------------------------------------------------------------------------------


def _pid_alive(pid):
    """Whether a process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _group_members(pgid):
    """Live (non-zombie) processes in process group ``pgid``: {pid: cmdline}."""
    members = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
    return members


def _pidfile(name):
    return RUN_DIR / f"{name}.pid"


def running_process(name):
    """PID (= process group) of a background process that this project started, if it is still running."""
    try:
        pid = int(_pidfile(name).read_text().strip())
    except (OSError, ValueError):
        return None
    members = _group_members(pid)
    if members and all(str(ROOT) in cmdline for cmdline in members.values()):
        return pid
    return None


def start_process(name, env):
    """Start one background process in its own session, logging to .local/logs/NAME.log."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [str(part) for part in _nautobot_cmd(*PROCESSES[name])]
    log_path = LOG_DIR / f"{name}.log"
    _show(cmd)
    with log_path.open("ab") as log:
        log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} {shlex.join(cmd)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _pidfile(name).write_text(f"{process.pid}\n")
    return process.pid


def stop_process(name, timeout=20):
    """End a background process's whole process group: SIGTERM, wait, then SIGKILL whatever is left."""
    pgid = running_process(name)
    if pgid is not None:
        print(f"Stopping {name} (process group {pgid}) ...", flush=True)
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            if _wait_until(lambda: not _group_members(pgid), wait):
                break
        if _group_members(pgid):
            raise Exit(f"Could not stop {name} (process group {pgid}).", code=1)
    _pidfile(name).unlink(missing_ok=True)


def stop_processes():
    """Stop web, worker and beat (the web server first, so nothing new is queued)."""
    for name in PROCESSES:
        stop_process(name)


def _port_in_use(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _tail(path, lines=40):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _login_page_ok():
    try:
        with urllib.request.urlopen(f"{WEB_URL}/login/", timeout=10) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_processes(env, timeout=300):
    """Start web, worker and beat (restarting any that run) and wait for the login page to answer 200."""
    if any(running_process(name) for name in PROCESSES):
        print("Nautobot processes are already running: restarting them cleanly.", flush=True)
        stop_processes()
    if _port_in_use(WEB_HOST, WEB_PORT):
        raise Exit(f"Port {WEB_PORT} is in use by another program; stop it and run this again.", code=1)
    pids = {name: start_process(name, env) for name in PROCESSES}
    print(f"Waiting for {WEB_URL}/login/ ...", flush=True)
    deadline = time.monotonic() + timeout
    while not _login_page_ok():
        dead = [name for name in PROCESSES if not _group_members(pids[name])]
        if dead or time.monotonic() > deadline:
            reason = f"{', '.join(dead)} exited" if dead else f"no answer after {timeout} s"
            for name in dead or ["web"]:
                print(f"--- last lines of .local/logs/{name}.log ---\n{_tail(LOG_DIR / f'{name}.log')}", flush=True)
            stop_processes()
            raise Exit(f"Nautobot did not start ({reason}).", code=1)
        time.sleep(1)


def _print_running(token=None):
    print()
    print(f"Nautobot is running at {WEB_URL}/")
    if token:
        print(f"  login:      {DEMO_USER} / {DEMO_PASSWORD}")
        print(f"  API token:  {token}")
        print(f'  try:        curl -H "Authorization: Token {token}" {WEB_URL}/api/plugins/contracts/')
    print("  logs:       " + ", ".join(str((LOG_DIR / f"{name}.log").relative_to(ROOT)) for name in PROCESSES))
    print("  stop with:  make stop")


# Run inside `nautobot-server shell`: admin user, stable API token, the app's Jobs enabled. Prints KEY=VALUE lines.
_DEMO_SETUP = f"""
from django.core.management import get_commands
from nautobot.extras.models import Job
from nautobot.users.models import Token, User

user = User.objects.filter(username={DEMO_USER!r}).first()
if user is None:
    user = User.objects.create_superuser({DEMO_USER!r}, "admin@example.com", {DEMO_PASSWORD!r})
    print("Created superuser {DEMO_USER}")
elif not (user.is_superuser and user.is_staff and user.is_active and user.check_password({DEMO_PASSWORD!r})):
    user.is_superuser = user.is_staff = user.is_active = True
    user.set_password({DEMO_PASSWORD!r})
    user.save()
    print("Reset superuser {DEMO_USER}")
tokens = Token.objects.with_sensitive_fields("key").filter(user=user, description={DEMO_API_LABEL!r})
token = tokens.first()
if token is None:
    Token.objects.create(user=user, description={DEMO_API_LABEL!r}, write_enabled=True)
    token = tokens.first()
    print("Created API token for {DEMO_USER}")
elif token.is_expired:
    Token.objects.filter(pk=token.pk).update(expires=None)
jobs = Job.objects.filter(module_name__startswith={APP!r})
enabled = jobs.filter(enabled=False).update(enabled=True)
print(f"App Jobs: {{jobs.count()}} installed, {{enabled}} newly enabled")
print(f"NC_TOKEN={{token.key}}")
print(f"NC_DEMO_DATA_COMMAND={{'{DEMO_DATA_COMMAND}' in get_commands()}}")
"""


# --------------------------------------------------------------------------------------------------------------------
# Tasks: local mode
# --------------------------------------------------------------------------------------------------------------------


@task(help={"timeout": "Seconds to wait for the login page (default 300)."})
def demo(c, timeout=300):
    """Run a ready-to-use Nautobot with the app: services, migrations, admin/admin + API token, demo data, web/worker/beat."""  # noqa: E501
    if any(running_process(name) for name in PROCESSES):
        print("Nautobot processes are already running: restarting them cleanly.", flush=True)
        stop_processes()
    env = ensure_services()
    ensure_database(env)
    _nautobot(env, "migrate", "--no-input")
    display = _nautobot_cmd("shell", "--command", "<admin user, API token, app Jobs: see _DEMO_SETUP in tasks.py>")
    result = _nautobot(env, "shell", "--no-imports", "--command", _DEMO_SETUP, capture=True, display=display)
    values = {}
    for line in result.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.startswith("NC_"):
            values[key] = value
        else:
            print(line)
    token = values.get("NC_TOKEN")
    if not token:
        raise Exit(f"The demo setup printed no API token:\n{result.stdout}\n{result.stderr}", code=1)
    if values.get("NC_DEMO_DATA_COMMAND") == "True":
        _nautobot(env, DEMO_DATA_COMMAND)
    else:
        print(f"Demo data: the `{DEMO_DATA_COMMAND}` command does not exist yet; skipping.")
    _nautobot(env, "collectstatic", "--no-input", "-v", "0")
    start_processes(env, timeout=int(timeout))
    _print_running(token)


@task(help={"timeout": "Seconds to wait for the login page (default 300)."})
def start(c, timeout=300):
    """Start (or restart) web, Celery worker and Celery beat in the background; applies pending migrations first."""
    env = ensure_services()
    ensure_database(env)
    _nautobot(env, "migrate", "--no-input")
    start_processes(env, timeout=int(timeout))
    _print_running()
    print("  (log in with a superuser: `invoke createsuperuser`, or run `make demo` for admin/admin)")


@task
def stop(c):
    """Stop everything `demo`/`start` started, then the project-local PostgreSQL/Redis (never system services)."""
    stop_processes()
    stop_local_redis()
    stop_local_postgres()
    print("Stopped.")


@task
def status(c):
    """Show the background processes and the project-local service instances."""
    for name in PROCESSES:
        pid = running_process(name)
        state = f"running (process group {pid})" if pid else "stopped"
        print(f"{name:8} {state}  log: {(LOG_DIR / f'{name}.log').relative_to(ROOT)}")
    pg = "running" if postgres_answers("127.0.0.1", LOCAL_PG_PORT) and local_postgres_running() else "not running"
    print(f"local PostgreSQL (127.0.0.1:{LOCAL_PG_PORT}): {pg}")
    print(f"local Redis (127.0.0.1:{LOCAL_REDIS_PORT}): {'running' if _redis_pid() else 'not running'}")


@task
def migrate(c):
    """Apply database migrations to the development database."""
    env = ensure_services()
    ensure_database(env)
    _nautobot(env, "migrate", "--no-input")


@task(help={"name": "Name for the new migration (optional)."})
def makemigrations(c, name=""):
    """Create new migrations for the app."""
    env = ensure_services()
    ensure_database(env)
    _nautobot(env, "makemigrations", APP, *(["--name", name] if name else []))


@task
def check_migrations(c):
    """Fail if the app's models have changes without a migration (makemigrations --check --dry-run)."""
    env = ensure_services()
    ensure_database(env)
    _nautobot(env, "makemigrations", APP, "--check", "--dry-run")


@task
def nbshell(c):
    """Open an interactive Nautobot shell (nbshell) against the development database."""
    env = ensure_services()
    ensure_database(env)
    _nautobot(env, "nbshell")


@task
def createsuperuser(c):
    """Create a Nautobot superuser interactively."""
    env = ensure_services()
    ensure_database(env)
    _nautobot(env, "createsuperuser")


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
    env = ensure_services()
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
    env = ensure_services()
    cmd = [_venv_tool("python"), DEV_DIR / "benchmark.py", "--scale", str(scale)]
    cmd += (["--db", db] if db else []) + (["--rebuild"] if rebuild else [])
    _run(cmd, env=env)
