"""Find or start the services `tasks.py` needs (PostgreSQL, Redis) and supervise the Nautobot processes.

Nothing here depends on invoke: failures raise `ServiceError` with a message meant for the developer, and `tasks.py`
turns it into a task failure. Services are looked for where the environment says (``NAUTOBOT_DB_HOST``/``_PORT``,
``NAUTOBOT_REDIS_HOST``/``_PORT``); where nothing answers on a local address, a project-local instance under
``.local/`` is used, started from the system binaries if it is not running. Only those instances are ever stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import os
from pathlib import Path
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
NAUTOBOT_CONFIG = ROOT / "development" / "nautobot_config.py"

LOCAL = ROOT / ".local"
NAUTOBOT_ROOT = LOCAL / "nautobot"
RUN_DIR = LOCAL / "run"
LOG_DIR = LOCAL / "logs"
PG_DIR = LOCAL / "postgres"
PG_DATA = PG_DIR / "data"
REDIS_DIR = LOCAL / "redis"
MAIL_DIR = LOCAL / "mail"  # development/nautobot_config.py's EMAIL_FILE_PATH when NAUTOBOT_EMAIL_HOST is unset

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOCAL_PG_PORT = int(os.getenv("NAUTOBOT_LOCAL_DB_PORT", "54329"))
LOCAL_REDIS_PORT = int(os.getenv("NAUTOBOT_LOCAL_REDIS_PORT", "63799"))
INSTALL_HINT = "sudo apt-get install -y postgresql redis-server"

WEB_HOST, WEB_PORT = "127.0.0.1", 8080

# The web server is uWSGI (`nautobot-server start`), not the threaded runserver: runserver opens one thread, and so
# one database connection, per client connection, and a burst of requests exhausted PostgreSQL's max_connections for
# the whole machine. uWSGI serves at most WEB_PROCESSES x WEB_THREADS requests at once (each thread keeps one
# connection); the rest wait in the listen queue.
WEB_PROCESSES = int(os.getenv("NAUTOBOT_WEB_PROCESSES", "2"))
WEB_THREADS = int(os.getenv("NAUTOBOT_WEB_THREADS", "4"))
WEB_LISTEN_QUEUE = 1024


def web_server_args(host=WEB_HOST, port=WEB_PORT, processes=None, threads=None):
    """nautobot-server arguments of the demo's web server: uWSGI with a bounded number of workers."""
    return [
        "start",
        f"--http={host}:{port}",
        "--master",
        f"--processes={processes or WEB_PROCESSES}",
        f"--threads={threads or WEB_THREADS}",
        f"--listen={WEB_LISTEN_QUEUE}",
        # Load the app in each worker after the fork, so no database connection is shared between processes.
        "--lazy-apps",
        # SIGTERM stops uWSGI (its default is to reload), so stop_process ends it cleanly.
        "--die-on-term",
        "--enable-threads",
        "--disable-logging",
        "--buffer-size=16384",
    ]


# The background processes of `demo`/`start`: name -> nautobot-server arguments.
PROCESSES = {
    "web": web_server_args(),
    "worker": ["celery", "worker", "-l", "INFO", "--concurrency=2"],
    "beat": ["celery", "beat", "-l", "INFO"],
}


class ServiceError(Exception):
    """A service cannot be found, started or stopped; the message says what to do."""


def nautobot_cmd(*args):
    """The full nautobot-server command line for ``args``."""
    return [str(VENV_BIN / "nautobot-server"), "--config", str(NAUTOBOT_CONFIG), *map(str, args)]


def wait_until(predicate, timeout, interval=0.5):
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed; return whether it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _quiet_run(cmd):
    """Run a service tool with captured output; raise ServiceError with that output when it fails."""
    result = subprocess.run(  # noqa: S603 (the project's own service commands)
        [str(part) for part in cmd], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ServiceError(f"{shlex.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


# --------------------------------------------------------------------------------------------------------------------
# Probes
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


def port_in_use(host, port):
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------------------------------------
# Find or start: one helper for both services
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """How to find one service, and how to start its project-local instance."""

    name: str
    host_var: str
    port_var: str
    default_port: int
    local_port: int
    answers: Callable[[str, int], bool]
    start_local: Callable[[], None]
    # Settings that point Nautobot at the project-local instance, besides host and port.
    local_settings: dict = field(default_factory=dict)


def find_or_start(service, environ=None, log=print):
    """Return the settings pointing at a running ``service``, starting its project-local instance if needed.

    The configured address wins when it answers; a non-local address that does not answer is an error; otherwise the
    project-local instance is used, started first unless it already answers.
    """
    environ = os.environ if environ is None else environ
    host = environ.get(service.host_var, "127.0.0.1")
    port = int(environ.get(service.port_var, service.default_port))
    if service.answers(host, port):
        log(f"{service.name}: using {host}:{port}")
        return {service.host_var: host, service.port_var: str(port)}
    if host not in LOCAL_HOSTS:
        raise ServiceError(f"{service.name} does not answer on {host}:{port} ({service.host_var}/{service.port_var}).")
    local = f"127.0.0.1:{service.local_port}"
    if service.answers("127.0.0.1", service.local_port):
        log(f"{service.name}: nothing answers on {host}:{port}; using the local instance on {local}")
    else:
        log(f"{service.name}: nothing answers on {host}:{port}.")
        service.start_local()
    return {service.host_var: "127.0.0.1", service.port_var: str(service.local_port), **service.local_settings}


def missing_binaries(what):
    """The error for missing service binaries, with the install command."""
    return ServiceError(f"{what} not found on this machine. Install the services with:\n\n    {INSTALL_HINT}\n")


def write_marker(service, text):
    """Record in .local/run that the project started a local service instance."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    (RUN_DIR / f"{service}.started").write_text(text + "\n")


def remove_marker(service):
    """Forget that the project started a local service instance."""
    (RUN_DIR / f"{service}.started").unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------------------------


def as_postgres_user():
    """Command prefix that runs PostgreSQL's server tools as the `postgres` OS user when we are root."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("runuser"):
        raise ServiceError("Running as root, but `runuser` is not available to run initdb/pg_ctl as `postgres`.")
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServiceError(f"Running as root, but there is no `postgres` OS user. Install PostgreSQL: {INSTALL_HINT}")
    return ["runuser", "-u", "postgres", "--"]


def find_postgres_bindir(pg_data=PG_DATA, search_root=Path("/usr/lib/postgresql")):
    """Directory holding initdb and pg_ctl: the version that made ``pg_data``, else PATH, else the newest."""
    candidates = []
    version_file = pg_data / "PG_VERSION"
    if version_file.exists():
        candidates.append(search_root / version_file.read_text().strip() / "bin")
    for tool in ("pg_ctl", "initdb"):
        found = shutil.which(tool)
        if found:
            candidates.append(Path(found).resolve().parent)

    def version_key(path):
        try:
            return float(path.parent.name)
        except ValueError:
            return 0.0

    candidates += sorted(search_root.glob("*/bin"), key=version_key, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def local_postgres_running(bindir=None):
    """Whether the project-local PostgreSQL cluster in .local/postgres/data is running."""
    bindir = bindir or find_postgres_bindir()
    if bindir is None or not (PG_DATA / "PG_VERSION").exists():
        return False
    result = subprocess.run(  # noqa: S603
        [*as_postgres_user(), str(bindir / "pg_ctl"), "-D", str(PG_DATA), "status"], capture_output=True, check=False
    )
    return result.returncode == 0


def start_local_postgres():
    """Create (once) and start the project-local PostgreSQL cluster on 127.0.0.1:LOCAL_PG_PORT."""
    bindir = find_postgres_bindir()
    if bindir is None:
        raise missing_binaries("PostgreSQL server binaries (initdb, pg_ctl)")
    as_postgres = as_postgres_user()
    PG_DIR.mkdir(parents=True, exist_ok=True)
    if as_postgres:
        shutil.chown(PG_DIR, user="postgres", group="postgres")
        if subprocess.run([*as_postgres, "test", "-w", str(PG_DIR)], check=False).returncode != 0:  # noqa: S603
            raise ServiceError(
                f"The `postgres` OS user cannot write to {PG_DIR} (is a parent directory not world-searchable?). "
                "Move the clone somewhere readable, or point NAUTOBOT_DB_HOST/NAUTOBOT_DB_PORT at a running server."
            )
    if not (PG_DATA / "PG_VERSION").exists():
        print(f"Creating a project-local PostgreSQL cluster in {PG_DATA.relative_to(ROOT)} ...", flush=True)
        _quiet_run(
            [
                *as_postgres,
                bindir / "initdb",
                "-D",
                PG_DATA,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        )
        with (PG_DATA / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# nautobot-contracts local development instance (development/local_services.py)\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "max_connections = 200\n"
                "# Throwaway data: trade durability for speed.\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
    print(f"Starting the project-local PostgreSQL on 127.0.0.1:{LOCAL_PG_PORT} ...", flush=True)
    pg_ctl = [bindir / "pg_ctl", "-D", PG_DATA, "-l", PG_DIR / "postgres.log", "-o", f"-p {LOCAL_PG_PORT}", "-w"]
    _quiet_run([*as_postgres, *pg_ctl, "-t", "120", "start"])
    if not wait_until(lambda: postgres_answers("127.0.0.1", LOCAL_PG_PORT), 60):
        raise ServiceError(
            f"The local PostgreSQL did not answer on port {LOCAL_PG_PORT}; see .local/postgres/postgres.log"
        )
    write_marker("postgres", f"127.0.0.1:{LOCAL_PG_PORT} {PG_DATA}")


def stop_local_postgres():
    """Stop the project-local PostgreSQL cluster if it runs (never any other server)."""
    bindir = find_postgres_bindir()
    if bindir is not None and local_postgres_running(bindir):
        print("Stopping the project-local PostgreSQL ...", flush=True)
        _quiet_run([*as_postgres_user(), bindir / "pg_ctl", "-D", PG_DATA, "-m", "fast", "-w", "stop"])
    remove_marker("postgres")


# --------------------------------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------------------------------


def local_redis_pid():
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
        raise missing_binaries("redis-server")
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    print(f"Starting the project-local Redis on 127.0.0.1:{LOCAL_REDIS_PORT} ...", flush=True)
    # `--save ""` is passed as a separate, empty argument: no RDB snapshots.
    cmd = [redis_server, "--port", str(LOCAL_REDIS_PORT), "--bind", "127.0.0.1", "--daemonize", "yes"]
    cmd += ["--save", "", "--appendonly", "no", "--dir", REDIS_DIR]
    cmd += ["--pidfile", REDIS_DIR / "redis.pid", "--logfile", REDIS_DIR / "redis.log"]
    _quiet_run(cmd)
    if not wait_until(lambda: redis_answers("127.0.0.1", LOCAL_REDIS_PORT), 30):
        raise ServiceError(f"The local Redis did not answer on port {LOCAL_REDIS_PORT}; see .local/redis/redis.log")
    write_marker("redis", f"127.0.0.1:{LOCAL_REDIS_PORT} pidfile {REDIS_DIR / 'redis.pid'}")


def stop_local_redis():
    """Stop the project-local Redis if it runs (never any other server)."""
    pid = local_redis_pid()
    if pid is not None:
        print("Stopping the project-local Redis ...", flush=True)
        os.kill(pid, signal.SIGTERM)
        if not wait_until(lambda: not pid_alive(pid), 15):
            os.kill(pid, signal.SIGKILL)
    remove_marker("redis")


POSTGRES = Service(
    name="PostgreSQL",
    host_var="NAUTOBOT_DB_HOST",
    port_var="NAUTOBOT_DB_PORT",
    default_port=5432,
    local_port=LOCAL_PG_PORT,
    answers=postgres_answers,
    start_local=start_local_postgres,
    # The local cluster has only the `postgres` superuser, with trust authentication.
    local_settings={"NAUTOBOT_DB_USER": "postgres", "NAUTOBOT_DB_PASSWORD": ""},
)
REDIS = Service(
    name="Redis",
    host_var="NAUTOBOT_REDIS_HOST",
    port_var="NAUTOBOT_REDIS_PORT",
    default_port=6379,
    local_port=LOCAL_REDIS_PORT,
    answers=redis_answers,
    start_local=start_local_redis,
    local_settings={"NAUTOBOT_REDIS_PASSWORD": "", "NAUTOBOT_REDIS_SSL": "false"},
)


def mail_destination(environ=None):
    """Where the Nautobot processes send mail, as development/nautobot_config.py decides, in words for the developer."""
    env = os.environ if environ is None else environ
    host = env.get("NAUTOBOT_EMAIL_HOST")
    if host:
        return f"SMTP server {host}:{env.get('NAUTOBOT_EMAIL_PORT') or '25'} (NAUTOBOT_EMAIL_* variables)"
    folder = Path(env["NAUTOBOT_EMAIL_FILE_PATH"]) if env.get("NAUTOBOT_EMAIL_FILE_PATH") else MAIL_DIR
    shown = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
    return f"files in {shown}/, not sent (set NAUTOBOT_EMAIL_HOST to send through SMTP)"


def ensure_services(environ=None):
    """Environment for nautobot-server: NAUTOBOT_ROOT plus the PostgreSQL and Redis that answer (or were started)."""
    env = dict(os.environ if environ is None else environ)
    env["NAUTOBOT_ROOT"] = str(NAUTOBOT_ROOT)
    NAUTOBOT_ROOT.mkdir(parents=True, exist_ok=True)
    env.update(find_or_start(POSTGRES, env))
    env.update(find_or_start(REDIS, env))
    return env


def ensure_database(env):
    """Create the database NAUTOBOT_DB_NAME (default nautobot_contracts) if it does not exist; never drop one."""
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
        raise ServiceError(f"Cannot connect to PostgreSQL to check for database {name!r}: {exc}")
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


# --------------------------------------------------------------------------------------------------------------------
# Background processes: web, worker, beat
# --------------------------------------------------------------------------------------------------------------------


def pid_alive(pid):
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


def group_members(pgid):
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


@dataclass
class Supervisor:
    """Start and stop named background processes, each in its own session, with pidfiles and logs.

    A pidfile is trusted only while every process of its group has ``owner_mark`` in its command line, so a recycled
    PID never makes us signal a stranger.
    """

    commands: dict
    run_dir: Path = RUN_DIR
    log_dir: Path = LOG_DIR
    owner_mark: str = str(ROOT)
    cwd: Path = ROOT

    def pidfile(self, name):
        """Where the PID (= process group) of ``name`` is recorded."""
        return self.run_dir / f"{name}.pid"

    def log_path(self, name):
        """The log file of ``name``."""
        return self.log_dir / f"{name}.log"

    def running(self, name):
        """PID (= process group) of a background process that we started, if it is still running."""
        try:
            pid = int(self.pidfile(name).read_text().strip())
        except (OSError, ValueError):
            return None
        members = group_members(pid)
        if members and all(self.owner_mark in cmdline for cmdline in members.values()):
            return pid
        return None

    def start(self, name, env):
        """Start ``name`` in its own session, appending its output to its log; return its PID."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cmd = [str(part) for part in self.commands[name]]
        with self.log_path(name).open("ab") as log:
            log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} {shlex.join(cmd)}\n".encode())
            log.flush()
            process = subprocess.Popen(  # noqa: S603 (commands come from PROCESSES)
                cmd,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pidfile(name).write_text(f"{process.pid}\n")
        return process.pid

    def stop(self, name, timeout=20):
        """End a process's whole group: SIGTERM, wait, then SIGKILL whatever is left."""
        pgid = self.running(name)
        if pgid is not None:
            print(f"Stopping {name} (process group {pgid}) ...", flush=True)
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    break
                if wait_until(lambda: not group_members(pgid), wait, interval=0.1):
                    break
            if group_members(pgid):
                raise ServiceError(f"Could not stop {name} (process group {pgid}).")
        self.pidfile(name).unlink(missing_ok=True)

    def stop_all(self):
        """Stop every process, in declaration order (the web server first, so nothing new is queued)."""
        for name in self.commands:
            self.stop(name)

    def tail(self, name, lines=40):
        """The last lines of the log of ``name``."""
        try:
            return "\n".join(self.log_path(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def nautobot_supervisor():
    """The supervisor of the web server, Celery worker and Celery beat of `demo`/`start`."""
    return Supervisor({name: nautobot_cmd(*args) for name, args in PROCESSES.items()})


def page_ok(url, timeout=10):
    """Whether ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_and_wait(supervisor, env, ready_url, timeout=300, web="web", port=(WEB_HOST, WEB_PORT)):
    """(Re)start every process and wait until ``ready_url`` answers 200; stop them all again if one dies."""
    if any(supervisor.running(name) for name in supervisor.commands):
        print("Nautobot processes are already running: restarting them cleanly.", flush=True)
        supervisor.stop_all()
    if port and port_in_use(*port):
        raise ServiceError(f"Port {port[1]} is in use by another program; stop it and run this again.")
    pids = {}
    for name in supervisor.commands:
        print(f"==> {shlex.join(map(str, supervisor.commands[name])).replace(f'{ROOT}/', '')}", flush=True)
        pids[name] = supervisor.start(name, env)
    print(f"Waiting for {ready_url} ...", flush=True)
    deadline = time.monotonic() + timeout
    while not page_ok(ready_url):
        dead = [name for name in supervisor.commands if not group_members(pids[name])]
        if dead or time.monotonic() > deadline:
            reason = f"{', '.join(dead)} exited" if dead else f"no answer after {timeout} s"
            for name in dead or [web]:
                print(f"--- last lines of {supervisor.log_path(name)} ---\n{supervisor.tail(name)}", flush=True)
            supervisor.stop_all()
            raise ServiceError(f"Nautobot did not start ({reason}).")
        time.sleep(1)
