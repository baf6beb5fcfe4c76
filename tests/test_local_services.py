"""development/local_services.py: the find-or-start rule, the probes and the process supervisor (no real services)."""

import socket
import sys
import threading
from unittest import TestCase

from development import local_services as services


def fake_service(answering, started):
    """A Service whose probe answers on the (host, port) pairs in ``answering``; starting records the call."""
    return services.Service(
        name="Fake",
        host_var="FAKE_HOST",
        port_var="FAKE_PORT",
        default_port=1111,
        local_port=2222,
        answers=lambda host, port: (host, int(port)) in answering,
        start_local=lambda: started.append(True),
        local_settings={"FAKE_USER": "local"},
    )


class FindOrStartTest(TestCase):
    def find(self, answering, environ):
        started, lines = [], []
        result = services.find_or_start(fake_service(answering, started), environ, log=lines.append)
        return result, started, lines

    def test_configured_server_that_answers_is_used(self):
        result, started, _ = self.find({("db.example", 5)}, {"FAKE_HOST": "db.example", "FAKE_PORT": "5"})
        self.assertEqual(result, {"FAKE_HOST": "db.example", "FAKE_PORT": "5"})
        self.assertEqual(started, [])

    def test_default_address(self):
        result, started, _ = self.find({("127.0.0.1", 1111)}, {})
        self.assertEqual(result, {"FAKE_HOST": "127.0.0.1", "FAKE_PORT": "1111"})
        self.assertEqual(started, [])

    def test_remote_server_that_does_not_answer_is_an_error(self):
        with self.assertRaisesRegex(services.ServiceError, r"Fake does not answer on db\.example:5"):
            self.find(set(), {"FAKE_HOST": "db.example", "FAKE_PORT": "5"})

    def test_running_local_instance_is_used_without_starting(self):
        result, started, lines = self.find({("127.0.0.1", 2222)}, {"FAKE_HOST": "localhost"})
        self.assertEqual(result, {"FAKE_HOST": "127.0.0.1", "FAKE_PORT": "2222", "FAKE_USER": "local"})
        self.assertEqual(started, [])
        self.assertIn("using the local instance on 127.0.0.1:2222", lines[0])

    def test_local_instance_is_started_when_nothing_answers(self):
        result, started, _ = self.find(set(), {})
        self.assertEqual(started, [True])
        self.assertEqual(result["FAKE_PORT"], "2222")

    def test_postgres_and_redis_share_the_helper(self):
        self.assertEqual(
            (services.POSTGRES.host_var, services.REDIS.host_var), ("NAUTOBOT_DB_HOST", "NAUTOBOT_REDIS_HOST")
        )
        self.assertIs(services.POSTGRES.answers, services.postgres_answers)
        self.assertIs(services.REDIS.answers, services.redis_answers)


def one_shot_server(reply):
    """A TCP server on a free port that answers one connection with ``reply``; returns its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.recv(64)
            conn.sendall(reply)
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ProbeTest(TestCase):
    def test_postgres_probe(self):
        self.assertTrue(services.postgres_answers("127.0.0.1", one_shot_server(b"N")))
        self.assertFalse(services.postgres_answers("127.0.0.1", one_shot_server(b"+PONG\r\n")))
        self.assertFalse(services.postgres_answers("127.0.0.1", closed_port(), timeout=1))

    def test_redis_probe(self):
        self.assertTrue(services.redis_answers("127.0.0.1", one_shot_server(b"+PONG\r\n")))
        self.assertTrue(services.redis_answers("127.0.0.1", one_shot_server(b"-NOAUTH Authentication required.\r\n")))
        self.assertFalse(services.redis_answers("127.0.0.1", one_shot_server(b"N")))
        self.assertFalse(services.redis_answers("127.0.0.1", closed_port(), timeout=1))


class WebServerArgsTest(TestCase):
    def test_bounded_uwsgi_not_runserver(self):
        args = services.web_server_args(port=9999, processes=3, threads=2)
        self.assertEqual(args[0], "start")  # nautobot-server start = uWSGI
        self.assertIn("--http=127.0.0.1:9999", args)
        self.assertIn("--processes=3", args)
        self.assertIn("--threads=2", args)
        self.assertIn("--die-on-term", args)
        self.assertNotIn("runserver", services.PROCESSES["web"])


class SupervisorTest(TestCase):
    def setUp(self):
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        # A parent with a child in its process group, as uWSGI or Celery have: stop must end both.
        child = "[sys.executable, '-c', 'import time; time.sleep(60)']"
        script = f"import subprocess, sys, time; subprocess.Popen({child}); time.sleep(60)"
        self.supervisor = services.Supervisor(
            {"sleeper": [sys.executable, "-c", script]},
            run_dir=services.Path(self.tmp.name) / "run",
            log_dir=services.Path(self.tmp.name) / "logs",
            owner_mark=sys.executable,
        )
        self.addCleanup(self.supervisor.stop_all)

    def test_start_then_stop_ends_the_whole_group(self):
        pid = self.supervisor.start("sleeper", env=None)
        self.assertTrue(services.wait_until(lambda: len(services.group_members(pid)) == 2, 10, 0.1))
        self.assertEqual(self.supervisor.running("sleeper"), pid)

        self.supervisor.stop("sleeper", timeout=5)

        self.assertEqual(services.group_members(pid), {})
        self.assertIsNone(self.supervisor.running("sleeper"))
        self.assertFalse(self.supervisor.pidfile("sleeper").exists())
        self.assertIn("=====", self.supervisor.tail("sleeper"))

    def test_a_pidfile_of_a_foreign_process_is_not_trusted(self):
        self.supervisor.run_dir.mkdir(parents=True)
        self.supervisor.pidfile("sleeper").write_text("1\n")  # init: not ours
        self.assertIsNone(self.supervisor.running("sleeper"))
        self.supervisor.stop("sleeper")  # signals nothing
        self.assertFalse(self.supervisor.pidfile("sleeper").exists())
