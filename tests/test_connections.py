"""The demo's web server keeps PostgreSQL connections bounded under a burst of concurrent requests (issue 15).

runserver opened a thread, and with CONN_MAX_AGE a persistent connection, per client connection: a burst of
requests took PostgreSQL's max_connections for the whole machine. This starts the web server the way `invoke start`
does (development/local_services.py), against the test database, fires 200 concurrent requests and reads
pg_stat_activity while they run.
"""

from concurrent.futures import ThreadPoolExecutor
import os
import socket
import threading
import time
import urllib.error
import urllib.request

from django.db import connection
import psycopg2
import pytest

from development import local_services as services

pytestmark = pytest.mark.integration

BURST = 200
PROCESSES, THREADS = 2, 4
APP_NAME = "nc-connection-burst-test"  # tags the server's connections in pg_stat_activity
START_TIMEOUT = 120
REQUEST_TIMEOUT = 60


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url):
    # An unknown API token is looked up in the database on every request, and refused with 403.
    headers = {"Authorization": f"Token {'0' * 40}", "Accept": "application/json"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http URL built here)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:
        return repr(exc)


@pytest.fixture
def database(django_db_setup):
    """Connection settings of the (migrated) test database, and a monitoring connection to it."""
    db = {**connection.settings_dict}
    db["NAME"] = db["TEST"]["NAME"] or f"test_{db['NAME']}"
    conn = psycopg2.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    )
    conn.autocommit = True
    yield db, conn
    conn.close()


@pytest.fixture
def web_server(database, tmp_path):
    """The uWSGI web server of `invoke start` on a free port, on the test database; stopped (whole group) after."""
    db, _ = database
    port = free_port()
    supervisor = services.Supervisor(
        {"web": services.nautobot_cmd(*services.web_server_args(port=port, processes=PROCESSES, threads=THREADS))},
        run_dir=tmp_path / "run",
        log_dir=tmp_path / "logs",
    )
    env = {
        **os.environ,
        "NAUTOBOT_DB_NAME": db["NAME"],
        "NAUTOBOT_DB_HOST": db["HOST"],
        "NAUTOBOT_DB_PORT": str(db["PORT"]),
        "PGAPPNAME": APP_NAME,
    }
    supervisor.start("web", env)
    try:
        url = f"http://127.0.0.1:{port}"
        if not services.wait_until(lambda: services.page_ok(f"{url}/login/", timeout=5), START_TIMEOUT, 1):
            pytest.fail(f"the web server did not answer within {START_TIMEOUT} s:\n{supervisor.tail('web')}")
        yield url
    finally:
        supervisor.stop("web")
    assert supervisor.running("web") is None


def server_connections(conn, db_name):
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s", [db_name, APP_NAME]
        )
        return cursor.fetchone()[0]


def test_burst_of_requests_keeps_connections_bounded(database, web_server):
    db, conn = database
    peak, done = [0], threading.Event()

    def monitor():
        while not done.is_set():
            peak[0] = max(peak[0], server_connections(conn, db["NAME"]))
            time.sleep(0.05)

    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            results = list(pool.map(get, [f"{web_server}/api/status/"] * BURST))
    finally:
        done.set()
        watcher.join(timeout=5)

    assert [r for r in results if r != 403] == [], "every request is answered (the rest queue in the listen backlog)"
    # At most one connection per uWSGI worker thread, however many clients arrive at once.
    print(f"peak server connections during a burst of {BURST}: {peak[0]}")
    assert 1 <= peak[0] <= PROCESSES * THREADS, peak[0]
    assert server_connections(conn, db["NAME"]) <= PROCESSES * THREADS
