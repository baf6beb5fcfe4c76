"""Browser tests: Playwright drives Debian's Chromium through the dashboard, a provider, a contract and a device page.

Each page is opened as a logged-in user on the demo data set; the test waits for every ECharts container to hold a
canvas of non-zero size, checks that the browser logged no console error, and saves a screenshot that
docs/user/dashboard.md embeds (`NAUTOBOT_CONTRACTS_SCREENSHOTS` moves them elsewhere).

The live server runs in a thread of this process and shares the test's database connection, so it sees the rows of
this TestCase's transaction and nothing is ever committed or flushed (a TransactionTestCase would wipe the reused test
database). The server is single-threaded, so that one connection is never used by two requests at once.
"""

from concurrent.futures import ThreadPoolExecutor
from html import escape
import os
from pathlib import Path
import shutil

from django.contrib.contenttypes.models import ContentType
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIServer
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device, Location
import pytest

from nautobot_contracts import clock
from nautobot_contracts.demo_data import load_demo_data
from nautobot_contracts.models import Contract, ContractAssignment, ServiceProvider
from nautobot_contracts.services.renewals import upcoming_renewals

CHROMIUM = os.getenv("NAUTOBOT_CONTRACTS_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.getenv("NAUTOBOT_CONTRACTS_SCREENSHOTS", ROOT / "docs" / "assets" / "screenshots"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
VIEWPORT = {"width": 1440, "height": 1000}
# The one console error not ours: Nautobot 3.2.7's tab-overflow script (its ResizeObserver in nautobot.js, which
# folds a detail page's tabs into a dropdown) sometimes throws this while the page settles, with or without our
# panels (seen on contract and device pages). Only this exact error from nautobot.js is tolerated.
KNOWN_CORE_ERRORS = ("Failed to execute 'removeChild' on 'Node': parameter 1 is not of type 'Node'.",)


def is_known_core_error(text):
    """Whether a console error is the known Nautobot core one above, thrown from Nautobot's own bundle."""
    return any(text.startswith(known) for known in KNOWN_CORE_ERRORS) and "/static/dist/js/nautobot.js" in text


try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    sync_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install -e '.[dev]')"),
]

# True once every chart container holds a canvas.
CHARTS_DRAWN_JS = """
() => Array.from(document.querySelectorAll('[id^="echarts-config-"]')).every((config) => {
    const box = document.getElementById(config.id.replace('echarts-config-', ''));
    return box && box.querySelector('canvas');
})
"""

# Every chart container's canvas, its size, and whether ECharts drew into it.
CHARTS_JS = """
() => Array.from(document.querySelectorAll('[id^="echarts-config-"]')).map((config) => {
    const id = config.id.replace('echarts-config-', '');
    const container = document.getElementById(id);
    const canvas = container ? container.querySelector('canvas') : null;
    return {
        id,
        width: canvas ? canvas.width : 0,
        height: canvas ? canvas.height : 0,
        echarts: !!(container && window.echarts && window.echarts.getInstanceByDom(container)),
    };
})
"""


class SingleThreadedLiveServer(LiveServerThread):
    """Django's live server thread, serving one request at a time on the test's own database connection.

    Unlike Django's, it never closes that connection when it stops: the TestCase still needs it to roll back.
    """

    def run(self):
        """Serve until terminate(); the shared connection stays open."""
        for alias, conn in self.connections_override.items():
            connections[alias] = conn
        try:
            self.httpd = WSGIServer((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False)
            self.port = self.httpd.server_address[1]
            self.httpd.set_app(self.static_handler(WSGIHandler()))
            self.is_ready.set()
            self.httpd.serve_forever()
        except Exception as error:  # noqa: BLE001  # reported to the main thread by setUpClass
            self.error = error
            self.is_ready.set()


class Browser:
    """Chromium driven by Playwright's sync API, confined to one worker thread of its own.

    Playwright's sync API runs an event loop and greenlets in the thread that uses it, and Django's connections are
    context-local: kept apart, the test body keeps its own transaction and Playwright never sees the ORM.
    """

    def __init__(self):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self._call(self._start)

    def _call(self, function, *args):
        return self._executor.submit(function, *args).result()

    def _start(self):
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    def _stop(self):
        self._browser.close()
        self._playwright.stop()

    def close(self):
        """Stop Chromium and the worker thread."""
        self._call(self._stop)
        self._executor.shutdown()

    def visit(self, url, cookies, screenshot):
        """Open `url` with `cookies`; returns status, final URL, charts, console errors and HTML."""
        return self._call(self._visit, url, cookies, screenshot)

    def _visit(self, url, cookies, screenshot):
        context = self._browser.new_context(viewport=VIEWPORT)
        try:
            context.add_cookies(cookies)
            page = context.new_page()
            errors = []
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error: errors.append(f"{error}\n{getattr(error, 'stack', '')}"))
            response = page.goto(url, wait_until="networkidle")
            # Nautobot initializes each chart in a setTimeout after DOMContentLoaded.
            page.wait_for_function(CHARTS_DRAWN_JS, timeout=15000)
            page.wait_for_timeout(800)  # let ECharts finish its entry animation before the screenshot
            charts = page.evaluate(CHARTS_JS)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
            return {
                "status": response.status,
                "url": page.url,
                "charts": charts,
                "errors": errors,
                "content": page.content(),
            }
        finally:
            context.close()


class BrowserTestCase(TestCase):
    """A TestCase with a live server on its own transaction and Chromium, pages opened as a logged-in superuser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The server thread must not close the shared connection around each request.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        connection = connections["default"]
        connection.inc_thread_sharing()
        cls.server_thread = SingleThreadedLiveServer(
            "localhost", StaticFilesHandler, connections_override={"default": connection}, port=0
        )
        cls.server_thread.daemon = True
        cls.server_thread.start()
        cls.server_thread.is_ready.wait()
        if cls.server_thread.error:
            raise cls.server_thread.error
        cls.live_server_url = f"http://localhost:{cls.server_thread.port}"
        cls.browser = Browser()

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.server_thread.terminate()
        connections["default"].dec_thread_sharing()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        super().tearDownClass()

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        load_demo_data()

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.client.force_login(self.user)

    def open(self, path, screenshot):
        """Open `path` in Chromium as the test user, save a full-page screenshot; returns what the page showed."""
        cookies = [{"name": "sessionid", "value": self.client.cookies["sessionid"].value, "url": self.live_server_url}]
        result = self.browser.visit(f"{self.live_server_url}{path}", cookies, screenshot)
        self.assertEqual(result["status"], 200, path)
        self.assertEqual(result["url"], f"{self.live_server_url}{path}", "redirected (not logged in?)")
        return result

    def assert_charts_rendered(self, result, expected_ids):
        charts = result["charts"]
        self.assertEqual(sorted(chart["id"] for chart in charts), sorted(expected_ids))
        for chart in charts:
            with self.subTest(chart=chart["id"]):
                self.assertTrue(chart["echarts"], f"{chart['id']}: no ECharts instance")
                self.assertGreater(chart["width"], 0)
                self.assertGreater(chart["height"], 0)
        self.assertEqual([error for error in result["errors"] if not is_known_core_error(error)], [])


class PagesTest(BrowserTestCase):
    """The pages issue 10 asks to see, as a user sees them."""

    def test_dashboard(self):
        result = self.open("/plugins/contracts/dashboard/", "dashboard.png")
        self.assert_charts_rendered(
            result,
            [
                "contracts-burn-by-currency",
                "contracts-renewals-by-month",
                "contracts-top-providers",
                "contracts-uncovered-by-location",
                "contracts-cost-history",
            ],
        )
        self.assertIn("NEXT NOTICE DEADLINES", result["content"])

    def test_provider_page(self):
        provider = ServiceProvider.objects.filter(contracts__isnull=False).order_by("name").first()
        result = self.open(provider.get_absolute_url(), "provider.png")
        self.assert_charts_rendered(result, ["provider-renewals-by-month"])

    def test_contract_page(self):
        # A contract with invoices and an entitlement, so the Billing and Entitlement panels have content.
        contract = Contract.objects.filter(invoices__isnull=False, quantity__isnull=False).order_by("name").first()
        result = self.open(contract.get_absolute_url(), "contract.png")
        self.assert_charts_rendered(result, ["contract-invoices-by-month"])
        self.assertIn("ENTITLEMENT", result["content"])

    def test_location_page(self):
        # A site with contracts assigned to it and to its racks and devices: its Monthly cost panel has figures.
        location = Location.objects.get(name="NYC-DC1")
        result = self.open(location.get_absolute_url(), "location.png")
        self.assertIn("MONTHLY COST", result["content"].upper())
        self.assertIn("Equinix NY5 Cage", result["content"])

    def test_device_page(self):
        # A device with an active contract assigned directly, so its Contracts panel shows coverage; the first by name,
        # so every run shows the same device (ids are random per demo load).
        today = clock.today()
        assignments = ContractAssignment.objects.filter(
            assigned_object_type=ContentType.objects.get_for_model(Device),
            contract__status__name="Active",
            contract__start_date__lte=today,
            contract__end_date__gte=today,
        )
        device = Device.objects.filter(pk__in=assignments.values("assigned_object_id")).order_by("name").first()
        result = self.open(device.get_absolute_url(), "device.png")
        self.assert_charts_rendered(result, [])
        self.assertIn("Covers today", result["content"])

    def test_calendar_page(self):
        # The month of the nearest notice deadline, so the grid shows at least that contract's event.
        nearest = min(upcoming_renewals(clock.today()), key=lambda item: item.notice_deadline)
        month = nearest.notice_deadline.strftime("%Y-%m")
        result = self.open(f"/plugins/contracts/calendar/?month={month}", "calendar.png")
        self.assert_charts_rendered(result, [])
        self.assertIn(escape(nearest.contract.name, quote=False), result["content"])
        self.assertIn('data-kind="notice"', result["content"])
