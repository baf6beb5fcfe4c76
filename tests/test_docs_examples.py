"""The documentation cannot drift from the code.

`docs/user/external-interactions.md` marks each runnable example with an HTML comment right before its fenced block:

    <!-- example: NAME status=200 set=VAR:dotted.path -->      then a ```bash (one curl command), ```graphql or
                                                               ```python (pynautobot) block
    <!-- response: NAME -->                                    then a ```json block: part of the documented answer

The test parses the page, runs every example in page order through Nautobot's API test client, with a token, on a
small dataset named like the docs (provider "Acme Networks", location "HQ", ...), and checks the documented status
code, that the documented response is contained in the real one, and the key facts of each answer (CHECKS below).
Every example must have a check and the examples the issue asks for must be present, so deleting or adding an example
without a check fails too. Other tests keep the settings, models and Jobs pages in sync with the code, and build the
site with `mkdocs build --strict`.
"""

import contextlib
import csv
from dataclasses import dataclass, field
import datetime
import hashlib
import io
import json
import mimetypes
import os
from pathlib import Path
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from unittest import mock
from urllib.parse import quote_plus, urlsplit

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import resolve, reverse
from django.utils import timezone
from nautobot.apps.testing import APITestCase
from nautobot.dcim.models import Device
from nautobot.extras.models import Job, JobLogEntry, JobResult, ScheduledJob, Webhook
import requests
from requests.structures import CaseInsensitiveDict
import yaml

from nautobot_contracts import NautobotContractsConfig
from nautobot_contracts.models import (
    Budget,
    Contract,
    ContractAlert,
    ContractAssignment,
    ContractAttachment,
    CostSnapshot,
    ExchangeRate,
    Invoice,
    InvoiceAttachment,
    ServiceProvider,
)
from nautobot_contracts.services import money, terms
from tests.factories import (
    ContractAssignmentFactory,
    ContractFactory,
    CostSnapshotFactory,
    ExchangeRateFactory,
    InvoiceFactory,
    ServiceProviderFactory,
    make_device,
    make_location,
    make_rack,
    status_for,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGE = DOCS / "user" / "external-interactions.md"
BASE_URL = "https://nautobot.example.com"
WILDCARD = "..."

# Examples the issue asks the page to show; removing one of them fails the test.
REQUIRED_EXAMPLES = {
    "api-root",
    "no-token",
    "contracts-expiring",
    "contracts-expiring-py",
    "snapshots-by-currency",
    "snapshot-create-405",
    "snapshot-delete-405",
    "contracts-by-provider",
    "assignments-by-location",
    "sparse-fields",
    "sparse-omit",
    "graphql-contracts-and-snapshots",
    "csv-import-providers",
    "csv-import-contracts",
    "csv-import-invoices",
    "attachment-upload",
    "job-run",
    "job-result",
    "job-schedule",
    "webhook-itsm",
    "renewal-chat-py",
    "anomaly-warnings",
}

# Files that `curl -F name=@FILE` uploads in the examples.
UPLOAD_FIXTURES = {
    "signed-msa.pdf": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    "installer.exe": b"MZ\x90\x00 not really a program",
}


# --------------------------------------------------------------------------------------------------------------------
# Parsing the page
# --------------------------------------------------------------------------------------------------------------------

BLOCK_RE = re.compile(
    r"^(?P<indent>[ \t]*)<!--\s*(?P<kind>example|response):\s*(?P<name>[\w.-]+)(?P<options>[^>]*?)\s*-->[ \t]*\n"
    r"(?P=indent)```(?P<lang>\w+)[ \t]*\n(?P<body>.*?)\n(?P=indent)```",
    re.MULTILINE | re.DOTALL,
)
MARKER_RE = re.compile(r"<!--\s*(example|response):")


@dataclass
class Example:
    """One runnable example of the page."""

    name: str
    lang: str
    body: str
    line: int
    status: int | None = None
    sets: dict = field(default_factory=dict)
    response: object = None


def parse_examples(text):
    """The page's examples in order, with their documented responses attached; malformed markers raise ValueError."""
    examples, by_name = [], {}
    matched_markers = 0
    for match in BLOCK_RE.finditer(text):
        matched_markers += 1
        indent = match.group("indent")
        body = "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in match["body"].split("\n"))
        line = text.count("\n", 0, match.start()) + 1
        name = match["name"]
        if match["kind"] == "response":
            if name not in by_name:
                raise ValueError(f"line {line}: response block for unknown example {name!r}")
            if match["lang"] != "json":
                raise ValueError(f"line {line}: the response of {name!r} must be a json block")
            by_name[name].response = json.loads(body)
            continue
        if name in by_name:
            raise ValueError(f"line {line}: example {name!r} appears twice")
        example = Example(name=name, lang=match["lang"], body=body, line=line)
        for option in match["options"].split():
            key, _, value = option.partition("=")
            if key == "status":
                example.status = int(value)
            elif key == "set":
                var, _, path = value.partition(":")
                example.sets[var] = path
            else:
                raise ValueError(f"line {line}: unknown option {option!r} on example {name!r}")
        if example.lang not in ("bash", "graphql", "python"):
            raise ValueError(f"line {line}: example {name!r} is a {example.lang!r} block (bash, graphql or python)")
        if example.lang == "bash" and example.status is None:
            raise ValueError(f"line {line}: curl example {name!r} needs status=<code>")
        examples.append(example)
        by_name[name] = example
    if matched_markers != len(MARKER_RE.findall(text)):
        raise ValueError("a marker is not directly followed by a fenced block")
    return examples


@dataclass
class HttpCall:
    """What one curl command sends."""

    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes | None = None
    form: dict | None = None


_IGNORED_FLAGS = {"-s", "-S", "-sS", "-Ss", "--silent", "--show-error", "-f", "--fail", "-L", "--location", "-g"}
_DATA_FLAGS = {"-d", "--data", "--data-raw", "--data-binary"}


def expand(value, variables):
    """Expand $VAR and ${VAR} for upper-case names; an unknown upper-case variable is an error."""

    def replace(match):
        name = match.group(1) or match.group(2)
        if name not in variables:
            raise KeyError(f"the example uses ${name}, which the test does not define")
        return str(variables[name])

    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}|\$([A-Z][A-Z0-9_]*)", replace, value)


def parse_curl(command, variables, read_file=None, upload_fixtures=None):
    """Turn one documented curl command into an HttpCall, expanding the test's variables."""
    tokens = [expand(token, variables) for token in shlex.split(command.replace("\\\n", " "), comments=True)]
    if not tokens or tokens[0] != "curl":
        raise ValueError(f"not a curl command: {command[:40]!r}")
    method, url, headers, data, form, url_data, get = None, None, {}, [], None, [], False
    args = iter(tokens[1:])
    for token in args:
        if token in _IGNORED_FLAGS:
            continue
        if token in ("-X", "--request"):
            method = next(args)
        elif token in ("-H", "--header"):
            key, _, value = next(args).partition(":")
            headers[key.strip()] = value.strip()
        elif token in _DATA_FLAGS:
            value = next(args)
            if value.startswith("@"):
                if token != "--data-binary":
                    raise ValueError("read files with --data-binary, which keeps their newlines")
                data.append(read_file(value[1:]))
            else:
                data.append(value.encode())
        elif token == "--data-urlencode":
            url_data.append(next(args))
        elif token in ("-G", "--get"):
            get = True
        elif token in ("-F", "--form"):
            key, _, value = next(args).partition("=")
            form = form or {}
            if value.startswith("@"):
                filename, _, options = value[1:].partition(";")
                if filename not in (upload_fixtures or {}):
                    raise ValueError(f"no upload fixture for {filename!r}")
                # curl sends `;type=...` if given, else a type guessed from the file name, else octet-stream.
                content_type = options[5:] if options.startswith("type=") else None
                content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
                form[key] = SimpleUploadedFile(filename, upload_fixtures[filename], content_type=content_type)
            else:
                form[key] = value
        elif token.startswith("-"):
            raise ValueError(f"curl option {token!r} is not understood by the docs test")
        elif url is None:
            url = token
        else:
            raise ValueError(f"a second URL in one curl command: {token!r}")
    if url is None:
        raise ValueError("the curl command has no URL")
    if not url.startswith(BASE_URL):
        raise ValueError(f"URL {url!r} does not start with $NAUTOBOT_URL")
    parts = urlsplit(url)
    query = parts.query
    extra = [f"{key}={quote_plus(value)}" for key, _, value in (item.partition("=") for item in url_data)]
    if get:
        # -G sends the data as the query string, as curl does.
        extra += [chunk.decode() for chunk in data]
        data = []
    query = "&".join(filter(None, [query, *extra]))
    path = parts.path + (f"?{query}" if query else "")
    if method is None:
        method = "POST" if (data or form) else "GET"
    body = b"&".join(data) if data else None
    return HttpCall(method=method.upper(), path=path, headers=headers, body=body, form=form)


def dig(data, dotted):
    """data["a"][0]["b"] for "a.0.b"."""
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def contains(documented, actual, where="response"):
    """Problems found when checking that `documented` is contained in `actual` ("..." matches anything).

    Dicts: every documented key must be there and match. Lists: the documented items must match actual items in the
    same order (others may come between). Other values: equal.
    """
    if documented == WILDCARD:
        return []
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r:.200}"]
        problems = []
        for key, value in documented.items():
            if key not in actual:
                problems.append(f"{where}: no key {key!r} (keys: {sorted(actual)})")
            else:
                problems += contains(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {actual!r:.200}"]
        position = 0
        for index, item in enumerate(documented):
            found = next((i for i in range(position, len(actual)) if not contains(item, actual[i])), None)
            if found is None:
                near = contains(item, actual[position], f"{where}[{index}]") if position < len(actual) else []
                return [
                    f"{where}[{index}]: no matching item after position {position}" + (f"; {near[0]}" if near else "")
                ]
            position = found + 1
        return []
    if documented != actual:
        return [f"{where}: documented {documented!r}, got {actual!r}"]
    return []


def _normalize_urls(value):
    """The API's absolute URLs as the page writes them (the test client's host is testserver)."""
    if isinstance(value, dict):
        return {key: _normalize_urls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize_urls(item) for item in value]
    if isinstance(value, str):
        return re.sub(r"^https?://(testserver|nautobot\.example\.com)(?=/)", BASE_URL, value)
    return value


class DjangoClientAdapter(requests.adapters.BaseAdapter):
    """A requests transport that answers through Django's test client, so pynautobot runs without a server."""

    def __init__(self, client):
        """Remember the test client."""
        super().__init__()
        self.client = client

    def send(self, request, **kwargs):
        """Replay the prepared request on the test client and wrap its answer as a requests.Response."""
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "HTTP_" + key.upper().replace("-", "_"): value
            for key, value in request.headers.items()
            if key.lower() not in ("content-type", "content-length")
        }
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        answer = self.client.generic(
            request.method,
            path,
            data=body,
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
            **headers,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(dict(answer.items()))
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        """Nothing to release."""


# --------------------------------------------------------------------------------------------------------------------
# Key facts of each example's answer
# --------------------------------------------------------------------------------------------------------------------

JOB_NAMES_HEADER = "| Job | Writes? | What it does |"


def _results(response):
    return response.json()["results"]


def _names(response):
    return [row["name"] for row in _results(response)]


def _provider(name):
    return ServiceProvider.objects.get(name=name)


def check_api_root(case, response, ctx):
    documented = set(re.findall(r"^\| `([a-z-]+)/` \|", ctx["page"], re.MULTILINE))
    case.assertEqual(set(response.json()), documented, "the endpoints table must list exactly the API's endpoints")


def check_contracts_expiring(case, response, ctx):
    expected = Contract.objects.filter(
        status__name="Active", end_date__gte="2026-12-01", end_date__lte="2026-12-31"
    ).order_by("end_date")
    case.assertEqual(_names(response), [c.name for c in expected])
    case.assertEqual(len(expected), 2)


def check_contracts_expiring_py(case, ns, ctx):
    expected = Contract.objects.filter(
        status__name="Active", end_date__gte="2026-12-01", end_date__lte="2026-12-31"
    ).order_by("end_date")
    case.assertEqual([c.name for c in ns["expiring"]], [c.name for c in expected])
    case.assertTrue(all(hasattr(c, "notice_deadline") for c in ns["expiring"]))


def check_snapshots_by_currency(case, response, ctx):
    rows = _results(response)
    expected = CostSnapshot.objects.filter(
        currency="USD", snapshot_date__gte="2026-11-01", snapshot_date__lte="2026-11-30"
    )
    case.assertEqual(len(rows), expected.count())
    case.assertGreater(len(rows), 1)
    case.assertTrue(
        all(row["currency"] == "USD" and "2026-11-01" <= row["snapshot_date"] <= "2026-11-30" for row in rows)
    )


def check_snapshots_by_currency_py(case, ns, ctx):
    expected = CostSnapshot.objects.filter(currency="USD", snapshot_date__month=11)
    case.assertEqual(
        {str(key): str(value) for key, value in ns["burn_by_day"].items()},
        {str(s.snapshot_date): str(s.monthly_burn) for s in expected},
    )


def check_snapshots_unchanged(case, response, ctx):
    case.assertEqual(ctx["snapshot_state"](), ctx["snapshots_before"], "a refused write changed cost snapshots")


def check_snapshot_create_405_py(case, ns, ctx):
    case.assertEqual(ns["refused_status"], 405)
    check_snapshots_unchanged(case, None, ctx)


def check_contracts_by_provider(case, response, ctx):
    acme = _provider("Acme Networks")
    rows = _results(response)
    case.assertEqual(sorted(_names(response)), sorted(acme.contracts.values_list("name", flat=True)))
    case.assertTrue(all(row["provider"]["id"] == str(acme.pk) for row in rows))
    case.assertLess(len(rows), Contract.objects.count(), "the provider filter must filter something out")


def check_assignments_by_location(case, response, ctx):
    hq = ctx["hq"]
    rows = _results(response)
    expected = ContractAssignment.objects.filter(
        assigned_object_type=ContentType.objects.get_for_model(hq), assigned_object_id=hq.pk
    )
    case.assertEqual({row["id"] for row in rows}, {str(pk) for pk in expected.values_list("pk", flat=True)})
    case.assertTrue(rows)
    case.assertLess(len(rows), ContractAssignment.objects.count(), "the location filter must filter something out")


def check_contracts_by_provider_py(case, ns, ctx):
    acme = _provider("Acme Networks")
    case.assertEqual(
        sorted(c.name for c in ns["acme_contracts"]), sorted(acme.contracts.values_list("name", flat=True))
    )
    case.assertEqual(
        [a.assigned_object_id for a in ns["hq_assignments"]], [str(ctx["hq_assignment"].assigned_object_id)]
    )


def check_create_contract(case, response, ctx):
    contract = Contract.objects.get(pk=response.json()["id"])
    case.assertEqual(contract.provider.name, "Acme Networks")
    case.assertEqual(contract.status.name, "Active")
    case.assertEqual(contract.currency, "USD", "the currency is stored upper-case")
    case.assertEqual(response.json()["monthly_cost"], money.money_str(terms.monthly_cost(contract)))
    case.assertEqual(response.json()["notice_deadline"], str(terms.notice_deadline(contract, timezone.localdate())))


def _check_only_fields(case, rows, fields):
    case.assertTrue(rows)
    for row in rows:
        case.assertEqual(set(row), fields)


def check_sparse_fields(case, response, ctx):
    _check_only_fields(case, _results(response), {"name", "end_date", "monthly_cost"})
    case.assertEqual(response.json()["count"], _provider("Acme Networks").contracts.count())


def check_sparse_omit(case, response, ctx):
    data = response.json()
    case.assertEqual(data["id"], ctx["vars"]["CONTRACT_ID"])
    case.assertFalse({"comments", "custom_fields", "notes_url", "tags"} & set(data))
    case.assertTrue({"name", "provider", "end_date", "monthly_cost"} <= set(data))


def check_sparse_fields_depth(case, response, ctx):
    rows = _results(response)
    _check_only_fields(case, rows, {"name", "provider"})
    case.assertTrue(all(row["provider"]["name"] == "Acme Networks" for row in rows), "depth=1 expands the provider")


def check_sparse_fields_py(case, ns, ctx):
    _check_only_fields(case, [dict(row) for row in ns["rows"]], {"name", "end_date", "monthly_cost"})


def check_create_assignment(case, response, ctx):
    assignment = ContractAssignment.objects.get(pk=response.json()["id"])
    case.assertEqual(str(assignment.contract_id), ctx["vars"]["CONTRACT_ID"])
    case.assertEqual(assignment.assigned_object, ctx["device"])


def check_assignment_invalid(case, response, ctx):
    case.assertIn("coverage_start", response.json())
    case.assertFalse(
        ContractAssignment.objects.filter(assigned_object_id=ctx["rack"].pk).exists(), "a refused write saved a row"
    )


def check_create_assignment_py(case, ns, ctx):
    assignment = ContractAssignment.objects.get(pk=ns["assignment"].id)
    case.assertEqual(assignment.contract.name, "Acme Core Support")
    case.assertEqual(assignment.assigned_object, ctx["device"])


def _graphql_data(case, response):
    answer = response.json()
    case.assertFalse(answer.get("errors"), answer.get("errors"))
    return answer["data"]


def check_graphql_contracts_and_snapshots(case, response, ctx):
    data = _graphql_data(case, response)
    case.assertEqual(
        sorted(c["name"] for c in data["contracts"]),
        sorted(Contract.objects.filter(end_date__lte="2026-12-31").values_list("name", flat=True)),
    )
    case.assertEqual(len(data["cost_snapshots"]), CostSnapshot.objects.filter(currency="USD").count())


def check_graphql_provider_detail(case, response, ctx):
    data = _graphql_data(case, response)
    expected = Contract.objects.filter(provider__name="Acme Networks", status__name="Active")
    case.assertEqual(sorted(c["name"] for c in data["contracts"]), sorted(expected.values_list("name", flat=True)))
    core = next(c for c in data["contracts"] if c["name"] == "Acme Core Support")
    case.assertEqual(len(core["invoices"]), Invoice.objects.filter(contract__name="Acme Core Support").count())
    case.assertTrue(core["assignments"])


def check_graphql_py(case, ns, ctx):
    case.assertEqual(
        sorted(row["snapshot_date"] for row in ns["eur_history"]),
        sorted(str(d) for d in CostSnapshot.objects.filter(currency="EUR").values_list("snapshot_date", flat=True)),
    )


def _check_csv_import(model, filename, key):
    def check(case, response, ctx):
        with (ROOT / "development" / "sample-data" / filename).open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        case.assertTrue(rows, f"{filename} has no rows")
        created = response.json()
        created = created if isinstance(created, list) else [created]
        case.assertEqual(len(created), len(rows))
        ids = [row["id"] for row in created]
        case.assertEqual(model.objects.filter(pk__in=ids).count(), len(rows))
        case.assertEqual(
            sorted(model.objects.filter(pk__in=ids).values_list(key, flat=True)), sorted(row[key] for row in rows)
        )

    return check


def check_csv_export(case, response, ctx):
    case.assertTrue(response["Content-Type"].startswith("text/csv"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    case.assertEqual(
        sorted(row["name"] for row in rows), sorted(_provider("Acme Networks").contracts.values_list("name", flat=True))
    )


def check_attachment_upload(case, response, ctx):
    data = response.json()
    attachment = ContractAttachment.objects.get(pk=data["id"])
    content = UPLOAD_FIXTURES["signed-msa.pdf"]
    case.assertEqual(str(attachment.contract_id), ctx["vars"]["CONTRACT_ID"])
    case.assertEqual(attachment.sha256, hashlib.sha256(content).hexdigest())
    case.assertEqual(data["size"], len(content))
    case.assertTrue(attachment.file.storage.exists(attachment.file.name))
    with attachment.file.open("rb") as handle:
        case.assertEqual(handle.read(), content)
    case.assertTrue(attachment.file.name.startswith("contract_attachments/"), "the storage path the page documents")
    case.assertNotIn("/media/", json.dumps(data), "no public media URL in the API")


def check_attachment_refused(case, response, ctx):
    case.assertIn("exe", json.dumps(response.json()))
    case.assertFalse(ContractAttachment.objects.filter(name__startswith="installer").exists())


def _documented_job_names(page):
    table = page[page.index(JOB_NAMES_HEADER) :].split("\n\n", 1)[0]
    return set(re.findall(r"^\| \*\*(.+?)\*\* \|", table, re.MULTILINE))


def check_jobs_list(case, response, ctx):
    listed = set(_names(response))
    installed = set(Job.objects.filter(module_name__startswith="nautobot_contracts").values_list("name", flat=True))
    case.assertEqual(_documented_job_names(ctx["page"]), installed, "the page's Jobs table must list the app's Jobs")
    case.assertTrue(installed <= listed)


def check_job_enable(case, response, ctx):
    case.assertTrue(Job.objects.get(name="Check upcoming renewals").enabled)


def check_job_run(case, response, ctx):
    job_result = JobResult.objects.get(pk=response.json()["job_result"]["id"])
    case.assertEqual(job_result.job_model.name, "Check upcoming renewals")
    case.assertEqual(job_result.status, "SUCCESS", job_result.traceback)


def check_job_result(case, response, ctx):
    """The Job's tiers are those the service layer computes for today with the documented window."""
    result = response.json()["result"]
    today = timezone.localdate()
    expected = {}
    for contract in terms.active_contracts(today).select_related("status", "provider"):
        tier = terms.renewal_tier(contract, today, window_days=60)
        if tier:
            expected[contract.name] = tier
    case.assertEqual({c["name"]: c["tier"] for c in result["contracts"]}, expected)
    case.assertEqual(result["window_days"], 60)
    case.assertIn("Initech Monitoring", expected, "the dataset has a contract whose notice deadline was missed")


def check_job_logs(case, response, ctx):
    rows = _results(response)
    case.assertTrue(rows)
    case.assertTrue(all(row["log_level"] == "warning" for row in rows))
    case.assertTrue(all(row["job_result"]["id"] == ctx["vars"]["JOB_RESULT_ID"] for row in rows))
    case.assertTrue(any("Initech Monitoring" in row["message"] for row in rows))


def check_job_run_invalid(case, response, ctx):
    case.assertEqual(JobResult.objects.filter(job_model__name="Check upcoming renewals").count(), 1)


def check_job_run_anomalies(case, response, ctx):
    job_result = JobResult.objects.get(pk=response.json()["job_result"]["id"])
    case.assertEqual(job_result.status, "SUCCESS", job_result.traceback)


def check_job_schedule(case, response, ctx):
    scheduled = ScheduledJob.objects.get(pk=response.json()["scheduled_job"]["id"])
    case.assertEqual(scheduled.job_model.name, "Capture cost history snapshot")
    case.assertEqual(scheduled.crontab, "15 0 * * *")


def check_devices_uncovered(case, response, ctx):
    from nautobot_contracts.services.coverage import uncovered_devices  # pylint: disable=import-outside-toplevel

    # Nautobot's location filter includes child locations.
    hq_tree = Device.objects.filter(location__in=ctx["hq"].descendants(include_self=True))
    expected = uncovered_devices(timezone.localdate(), queryset=hq_tree)
    expected_ids = {str(pk) for pk in expected.values_list("pk", flat=True)}
    case.assertEqual({row["id"] for row in _results(response)}, expected_ids)
    case.assertIn(str(Device.objects.get(name="hq-lab-01").pk), expected_ids)
    case.assertNotIn(str(ctx["device"].pk), expected_ids, "hq-core-01 has a warranty")


def check_webhook_itsm(case, response, ctx):
    webhook = Webhook.objects.get(pk=response.json()["id"])
    case.assertEqual(
        list(webhook.content_types.values_list("model", flat=True)), ["contractassignment"], "the webhook's model"
    )
    ctx["webhook_calls"].reset_mock()
    answer = case.client.post(
        "/api/plugins/contracts/contract-assignments/",
        {
            "contract": str(Contract.objects.get(name="Acme WAN").pk),
            "assigned_object_type": "dcim.device",
            "assigned_object_id": str(ctx["device"].pk),
        },
        format="json",
        **case.header,
    )
    case.assertEqual(answer.status_code, 201, answer.content)
    sent = [call.kwargs["args"] for call in ctx["webhook_calls"].apply_async.call_args_list]
    case.assertIn((webhook.pk, "contractassignment", "create"), [(args[0], args[2], args[3]) for args in sent])
    context = {"event": "created", "data": sent[0][1], "username": case.user.username}
    body = json.loads(webhook.render_body(context))
    case.assertEqual(body["object_id"], str(ctx["device"].pk))


def check_renewal_chat_py(case, ns, ctx):
    posts = ctx["chat_posts"].call_args_list
    case.assertEqual(len(posts), 1)
    case.assertEqual(posts[0].args[0], ctx["env"]["CHAT_WEBHOOK_URL"])
    text = posts[0].kwargs["json"]["text"]
    case.assertIn("MISSED: Initech Monitoring (Initech Software)", text)
    case.assertEqual(
        len(text.splitlines()), sum(1 for c in ns["result"]["contracts"] if c["tier"] in ("missed", "urgent"))
    )


def check_anomaly_latest_run(case, response, ctx):
    rows = _results(response)
    newest = JobResult.objects.filter(job_model__name="Detect cost anomalies", status="SUCCESS").latest("date_done")
    case.assertEqual([row["id"] for row in rows], [str(newest.pk)])


def check_anomaly_warnings(case, response, ctx):
    job_result = JobResult.objects.get(pk=ctx["vars"]["ANOMALY_RESULT_ID"])
    rows = _results(response)
    case.assertEqual(len(rows), len(job_result.result["anomalies"]), "one warning per anomaly")
    case.assertTrue(rows, "the dataset's snapshots give at least one anomaly")
    case.assertEqual(
        len(rows), JobLogEntry.objects.filter(job_result=job_result, log_level="warning").count(), "only the warnings"
    )


def no_further_check(case, response, ctx):
    """The status code (and documented response, if any) is the whole claim of this example."""


CHECKS = {
    "api-root": check_api_root,
    "no-token": no_further_check,
    "contracts-expiring": check_contracts_expiring,
    "pynautobot-setup": no_further_check,
    "contracts-expiring-py": check_contracts_expiring_py,
    "snapshots-by-currency": check_snapshots_by_currency,
    "snapshots-by-currency-py": check_snapshots_by_currency_py,
    "snapshot-create-405": check_snapshots_unchanged,
    "snapshot-delete-405": check_snapshots_unchanged,
    "snapshot-patch-405": check_snapshots_unchanged,
    "snapshot-create-405-py": check_snapshot_create_405_py,
    "contracts-by-provider": check_contracts_by_provider,
    "assignments-by-location": check_assignments_by_location,
    "contracts-by-provider-py": check_contracts_by_provider_py,
    "create-contract": check_create_contract,
    "sparse-fields": check_sparse_fields,
    "sparse-omit": check_sparse_omit,
    "sparse-fields-depth": check_sparse_fields_depth,
    "sparse-fields-py": check_sparse_fields_py,
    "create-assignment": check_create_assignment,
    "assignment-invalid": check_assignment_invalid,
    "create-assignment-py": check_create_assignment_py,
    "graphql-contracts-and-snapshots": check_graphql_contracts_and_snapshots,
    "graphql-renewals": check_graphql_contracts_and_snapshots,
    "graphql-provider-detail": check_graphql_provider_detail,
    "graphql-py": check_graphql_py,
    "csv-import-providers": _check_csv_import(ServiceProvider, "service_providers.csv", "name"),
    "csv-import-contracts": _check_csv_import(Contract, "contracts.csv", "name"),
    "csv-import-invoices": _check_csv_import(Invoice, "invoices.csv", "invoice_number"),
    "csv-import-rates": _check_csv_import(ExchangeRate, "exchange_rates.csv", "currency"),
    "csv-export": check_csv_export,
    "attachment-upload": check_attachment_upload,
    "attachment-refused": check_attachment_refused,
    "jobs-list": check_jobs_list,
    "job-enable": check_job_enable,
    "job-run": check_job_run,
    "job-result": check_job_result,
    "job-logs": check_job_logs,
    "job-run-invalid": check_job_run_invalid,
    "job-run-anomalies": check_job_run_anomalies,
    "job-schedule": check_job_schedule,
    "devices-uncovered": check_devices_uncovered,
    "webhook-itsm": check_webhook_itsm,
    "renewal-chat-py": check_renewal_chat_py,
    "anomaly-latest-run": check_anomaly_latest_run,
    "anomaly-warnings": check_anomaly_warnings,
}


# --------------------------------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------------------------------


class DocsPageStructureTest(SimpleTestCase):
    """The page has its examples, each with a check; the parsers read curl the way curl does."""

    def setUp(self):
        self.examples = parse_examples(PAGE.read_text())

    def test_page_has_examples(self):
        self.assertGreaterEqual(len(self.examples), len(REQUIRED_EXAMPLES))

    def test_required_examples_present(self):
        missing = REQUIRED_EXAMPLES - {example.name for example in self.examples}
        self.assertFalse(missing, f"examples removed from {PAGE.name}: {sorted(missing)}")

    def test_every_example_has_a_check(self):
        unchecked = [example.name for example in self.examples if example.name not in CHECKS]
        self.assertFalse(unchecked, f"add a check to CHECKS for {unchecked}")
        stale = set(CHECKS) - {example.name for example in self.examples}
        self.assertFalse(stale, f"CHECKS has entries for examples no longer on the page: {sorted(stale)}")

    def test_every_curl_example_parses(self):
        variables = {name: "x" for name in ("NAUTOBOT_URL", "TOKEN")} | {"NAUTOBOT_URL": BASE_URL}
        variables |= {name: "00000000-0000-0000-0000-000000000000" for name in _ID_VARIABLES}
        for example in self.examples:
            if example.lang == "bash":
                with self.subTest(example=example.name):
                    call = parse_curl(example.body, variables, read_file=lambda _: b"", upload_fixtures=UPLOAD_FIXTURES)
                    self.assertTrue(call.path.startswith("/api/"))
                    self.assertEqual(
                        call.headers.get("Authorization"), None if example.name == "no-token" else "Token x"
                    )

    def test_parse_curl(self):
        call = parse_curl(
            """curl -s -X PATCH -H "Authorization: Token $TOKEN" -H 'Content-Type: application/json' \\
              -d '{"id": "'"$ID"'", "q": "a \\"b\\""}' "$NAUTOBOT_URL/api/x/?a=1&b=c%20d" """,
            {"TOKEN": "t", "ID": "42", "NAUTOBOT_URL": BASE_URL},
        )
        self.assertEqual(call.method, "PATCH")
        self.assertEqual(call.path, "/api/x/?a=1&b=c%20d")
        self.assertEqual(call.headers, {"Authorization": "Token t", "Content-Type": "application/json"})
        self.assertEqual(json.loads(call.body), {"id": "42", "q": 'a "b"'})
        call = parse_curl(f"curl -G --data-urlencode 'name=Acme Networks' {BASE_URL}/api/x/", {})
        self.assertEqual((call.method, call.path, call.body), ("GET", "/api/x/?name=Acme+Networks", None))
        call = parse_curl(f"curl -F a=b -F file=@f.pdf {BASE_URL}/api/x/", {}, upload_fixtures={"f.pdf": b"%PDF"})
        self.assertEqual(call.method, "POST")
        self.assertEqual(call.form["a"], "b")
        self.assertEqual((call.form["file"].name, call.form["file"].content_type), ("f.pdf", "application/pdf"))
        fixtures = {"f.pdf": b""}
        call = parse_curl(f"curl -F 'file=@f.pdf;type=text/plain' {BASE_URL}/api/x/", {}, upload_fixtures=fixtures)
        self.assertEqual(call.form["file"].content_type, "text/plain")
        with self.assertRaises(KeyError):
            parse_curl(f"curl {BASE_URL}/api/$UNKNOWN/", {})
        with self.assertRaises(ValueError):
            parse_curl(f"curl --unknown-flag {BASE_URL}/api/", {})
        with self.assertRaises(ValueError):
            parse_curl("curl https://elsewhere.example.com/api/", {})

    def test_contains(self):
        actual = {"count": 3, "results": [{"a": 1, "b": 2}, {"a": 2}, {"a": 3, "c": [1, 2]}]}
        self.assertEqual(contains({"count": 3, "results": [{"a": 1}, {"a": 3, "c": WILDCARD}]}, actual), [])
        self.assertTrue(contains({"results": [{"a": 3}, {"a": 1}]}, actual), "order matters")
        self.assertTrue(contains({"count": 2}, actual))
        self.assertTrue(contains({"missing": WILDCARD}, actual))
        self.assertTrue(contains({"results": [{"a": 4}]}, actual))

    def test_parse_examples_rejects_malformed_markers(self):
        with self.assertRaises(ValueError):
            parse_examples("<!-- example: a status=200 -->\n\n```bash\ncurl x\n```\n")
        with self.assertRaises(ValueError):
            parse_examples("<!-- example: a -->\n```bash\ncurl x\n```\n")
        with self.assertRaises(ValueError):
            parse_examples("<!-- response: a -->\n```json\n{}\n```\n")
        examples = parse_examples(
            '=== "x"\n\n    <!-- example: a status=201 set=V:b.0 -->\n    ```bash\n    curl y\n    ```\n'
            '<!-- response: a -->\n```json\n{"b": [1]}\n```\n'
        )
        self.assertEqual(
            [(e.name, e.status, e.sets, e.body, e.response) for e in examples],
            [("a", 201, {"V": "b.0"}, "curl y", {"b": [1]})],
        )


_ID_VARIABLES = ("CONTRACT_ID", "DEVICE_ID", "RACK_ID", "SNAPSHOT_ID", "JOB_RESULT_ID", "ANOMALY_RESULT_ID")


class DocsExamplesTest(APITestCase):
    """Run every example of the page, in order, and check its answer."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        today = timezone.localdate()
        acme = ServiceProviderFactory(name="Acme Networks", account_number="ACME-001")
        globex = ServiceProviderFactory(name="Globex Telecom")
        initech = ServiceProviderFactory(name="Initech Software")
        core = ContractFactory(
            name="Acme Core Support",
            provider=acme,
            contract_type="support",
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2026, 12, 31),
            recurring_cost="1200.00",
            billing_period="monthly",
            currency="USD",
            notice_period_days=60,
        )
        wan = ContractFactory(
            name="Acme WAN",
            provider=acme,
            contract_type="circuit",
            start_date=datetime.date(2024, 4, 1),
            end_date=datetime.date(2027, 3, 31),
            recurring_cost="24000.00",
            billing_period="annual",
            currency="USD",
            notice_period_days=90,
        )
        ContractFactory(
            name="Globex Colocation Frankfurt",
            provider=globex,
            contract_type="colocation",
            start_date=datetime.date(2025, 12, 16),
            end_date=datetime.date(2026, 12, 15),
            recurring_cost="9000.00",
            billing_period="quarterly",
            currency="EUR",
            auto_renew=True,
            notice_period_days=90,
        )
        # Relative to today, so the renewal check always has a missed deadline; its term end (today + 100 days) never
        # falls in the fixed December 2026 window the filter examples use.
        ContractFactory(
            name="Initech Monitoring",
            provider=initech,
            contract_type="subscription",
            start_date=today - datetime.timedelta(days=265),
            end_date=today + datetime.timedelta(days=100),
            recurring_cost="500.00",
            billing_period="monthly",
            currency="GBP",
            notice_period_days=120,
        )
        ContractFactory(
            name="Initech Legacy Support",
            provider=initech,
            status=status_for(Contract, "Pending"),
            start_date=datetime.date(2027, 1, 1),
            end_date=datetime.date(2027, 12, 31),
            currency="GBP",
        )
        InvoiceFactory(contract=core, invoice_number="ACME-INV-1001", amount="1200.00")
        InvoiceFactory(contract=core, invoice_number="ACME-INV-1002", amount="1200.00", invoice_date="2026-03-01")
        cls.hq = make_location("HQ")
        cls.rack = make_rack("HQ-R1", location=cls.hq)
        cls.device = make_device("hq-core-01", location=cls.hq)
        make_device("hq-lab-01", location=make_location("Lab", parent=cls.hq))
        make_device("branch-sw-01", location=make_location("Branch 1"))
        # HQ's own assignment is a circuit contract, which is no device coverage: hq-lab-01 (in HQ's child location
        # Lab) stays uncovered whatever today is, and hq-core-01 is covered by a warranty that runs from today.
        cls.hq_assignment = ContractAssignmentFactory(contract=wan, assigned_object=cls.hq)
        ContractAssignmentFactory(contract=core, assigned_object=Device.objects.get(name="branch-sw-01"))
        warranty = ContractFactory(
            name="Hooli Switch Warranty",
            provider=ServiceProviderFactory(name="Hooli Hardware"),
            contract_type="warranty",
            start_date=today - datetime.timedelta(days=30),
            end_date=today + datetime.timedelta(days=700),
            recurring_cost="0.00",
            one_time_cost="4800.00",
            billing_period="one_time",
            currency="USD",
        )
        ContractAssignmentFactory(contract=warranty, assigned_object=cls.device)
        for day, burn in ((1, "3000.00"), (2, "3200.00")):
            CostSnapshotFactory(
                snapshot_date=datetime.date(2026, 11, day),
                currency="USD",
                monthly_burn=burn,
                renewal_90d="14400.00",
                active_contract_count=2,
                coverage_gap_count=1,
            )
        CostSnapshotFactory(
            snapshot_date=datetime.date(2026, 11, 1), currency="EUR", monthly_burn="3000.00", renewal_90d="36000.00"
        )
        ExchangeRateFactory(currency="EUR", rate="1.08", effective_date=datetime.date(2026, 1, 1))
        ExchangeRateFactory(currency="GBP", rate="1.27", effective_date=datetime.date(2026, 1, 1))

    def setUp(self):
        super().setUp()
        self.user.is_superuser = True
        self.user.save()
        self.page = PAGE.read_text()
        self.examples = parse_examples(self.page)
        # Installing the app's Jobs enabled, as the admin guide tells; the renewal check is left for the page to enable.
        Job.objects.filter(module_name__startswith="nautobot_contracts").update(enabled=True)
        Job.objects.filter(name="Check upcoming renewals").update(enabled=False)
        self.media_root = tempfile.mkdtemp(prefix="nc-docs-media-")
        self.addCleanup(shutil.rmtree, self.media_root, ignore_errors=True)

    def _snapshot_state(self):
        return sorted(CostSnapshot.objects.values_list("snapshot_date", "currency", "monthly_burn", "renewal_90d"))

    def _perform(self, example, variables):
        if example.lang == "graphql":
            call = HttpCall(
                method="POST",
                path="/api/graphql/",
                headers={"Authorization": f"Token {variables['TOKEN']}", "Content-Type": "application/json"},
                body=json.dumps({"query": example.body}).encode(),
            )
        else:
            call = parse_curl(
                example.body,
                variables,
                read_file=lambda name: (ROOT / name).read_bytes(),
                upload_fixtures=UPLOAD_FIXTURES,
            )
        headers = {
            "HTTP_" + key.upper().replace("-", "_"): value
            for key, value in call.headers.items()
            if key.lower() != "content-type"
        }
        if call.form is not None:
            body = encode_multipart(BOUNDARY, call.form)
            return self.client.generic(call.method, call.path, data=body, content_type=MULTIPART_CONTENT, **headers)
        content_type = call.headers.get("Content-Type", "application/octet-stream")
        return self.client.generic(call.method, call.path, data=call.body or b"", content_type=content_type, **headers)

    def _run_python(self, example, namespace):
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(example.body, f"{PAGE.name}:{example.line}", "exec"), namespace)  # noqa: S102

    def test_documented_examples(self):
        """Each example in order: documented status, documented response contained in the answer, key facts."""
        import pynautobot  # pylint: disable=import-outside-toplevel

        self.assertTrue(self.examples, f"{PAGE} has no runnable examples")
        variables = {
            "NAUTOBOT_URL": BASE_URL,
            "TOKEN": self.token.key,
            "DEVICE_ID": str(self.device.pk),
            "RACK_ID": str(self.rack.pk),
            "SNAPSHOT_ID": str(CostSnapshot.objects.filter(currency="USD").earliest("snapshot_date").pk),
            # Replaced by the id of the contract the page creates; set here so a failing create is reported once.
            "CONTRACT_ID": str(Contract.objects.get(name="Acme Core Support").pk),
        }
        env = {"NAUTOBOT_URL": BASE_URL, "TOKEN": self.token.key, "CHAT_WEBHOOK_URL": "https://chat.example.com/hook"}
        ctx = {
            "page": self.page,
            "vars": variables,
            "env": env,
            "hq": self.hq,
            "rack": self.rack,
            "device": self.device,
            "hq_assignment": self.hq_assignment,
            "snapshot_state": self._snapshot_state,
            "snapshots_before": self._snapshot_state(),
        }
        adapter = DjangoClientAdapter(self.client)
        original_init = pynautobot.core.api.Api.__init__

        def api_init(api, url, *args, **kwargs):
            original_init(api, url, *args, **kwargs)
            api.http_session.mount(BASE_URL, adapter)

        namespace = {"__name__": "docs_example"}
        failures = []
        with contextlib.ExitStack() as stack:
            stack.enter_context(override_settings(MEDIA_ROOT=self.media_root))
            stack.enter_context(mock.patch.dict(os.environ, env))
            stack.enter_context(mock.patch.object(pynautobot.core.api.Api, "__init__", api_init))
            # No worker in this process: the run endpoint checks for one, then Celery runs the Job eagerly.
            stack.enter_context(mock.patch("nautobot.extras.api.views.get_worker_count", return_value=1))
            # Jobs log over a second connection so logs survive a rolled-back job; inside this test's transaction that
            # connection would not see the JobResult, so log over the default connection instead.
            stack.enter_context(mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None))
            ctx["webhook_calls"] = stack.enter_context(mock.patch("nautobot.extras.webhooks.process_webhook"))
            ctx["chat_posts"] = stack.enter_context(mock.patch("requests.post"))
            for example in self.examples:
                try:
                    self._run_example(example, variables, namespace, ctx)
                except Exception as error:  # noqa: BLE001  # report every example, not only the first failure
                    failures.append(f"{example.name} (line {example.line}): {type(error).__name__}: {error}")
        if failures:
            self.fail(f"{len(failures)} of {len(self.examples)} documented examples fail:\n  " + "\n  ".join(failures))

    def _run_example(self, example, variables, namespace, ctx):
        check = CHECKS[example.name]
        if example.lang == "python":
            with self.captureOnCommitCallbacks(execute=True):
                self._run_python(example, namespace)
            check(self, namespace, ctx)
            return
        with self.captureOnCommitCallbacks(execute=True):
            # Jobs are queued on commit: run them (eagerly) as a worker would once the request's transaction commits.
            response = self._perform(example, variables)
        try:
            data = response.json()
        except (ValueError, TypeError):
            data = None
        for var, path in example.sets.items():
            with contextlib.suppress(KeyError, IndexError, TypeError):
                variables[var] = dig(data, path)
        expected_status = example.status or 200
        self.assertEqual(
            response.status_code, expected_status, f"status {response.status_code}: {response.content[:600]!r}"
        )
        if example.response is not None:
            problems = contains(example.response, _normalize_urls(data))
            self.assertFalse(problems, "the documented response differs:\n    " + "\n    ".join(problems[:8]))
        check(self, response, ctx)


class DocsInSyncTest(SimpleTestCase):
    """Settings, model fields and the site build."""

    def test_every_setting_is_documented(self):
        page = (DOCS / "admin" / "settings.md").read_text()
        documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", page, re.MULTILINE))
        self.assertEqual(documented, set(NautobotContractsConfig.default_settings), "docs/admin/settings.md table")

    def test_every_model_field_is_documented(self):
        pages = {
            ServiceProvider: "serviceprovider.md",
            Contract: "contract.md",
            Invoice: "invoice.md",
            ContractAssignment: "contractassignment.md",
            ContractAttachment: "attachments.md",
            InvoiceAttachment: "attachments.md",
            CostSnapshot: "costsnapshot.md",
            ExchangeRate: "exchangerate.md",
            ContractAlert: "contractalert.md",
            Budget: "budget.md",
        }
        inherited = {"id", "created", "last_updated", "_custom_field_data", "tags", "natural_slug"}
        for model, page in pages.items():
            text = (DOCS / "models" / page).read_text()
            for model_field in model._meta.concrete_fields:
                name = model_field.name
                if name in inherited:
                    continue
                with self.subTest(model=model.__name__, field=name):
                    self.assertIn(f"`{name}`", text, f"docs/models/{page} does not describe {name}")

    def test_docs_link_points_at_the_built_site(self):
        """The app's docs link (docs_view_name) redirects to the index.html that mkdocs.yml builds into static/."""
        config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
        self.assertEqual(config["site_dir"], "nautobot_contracts/static/nautobot_contracts/docs")
        self.assertFalse(config["use_directory_urls"], "static files need explicit .html links")
        route = resolve(reverse(NautobotContractsConfig.docs_view_name))
        target = route.func.view_initkwargs["url"]
        self.assertTrue(target.endswith("/nautobot_contracts/docs/index.html"), target)

    def test_mkdocs_build_strict(self):
        mkdocs = Path(sys.executable).parent / "mkdocs"
        if not mkdocs.exists():
            self.skipTest("mkdocs is not installed (pip install -e '.[dev]')")
        with tempfile.TemporaryDirectory() as site_dir:
            result = subprocess.run(  # noqa: S603  # the venv's own mkdocs, fixed arguments
                [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", site_dir],
                cwd=ROOT,
                env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
                capture_output=True,
                text=True,
                check=False,
            )
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertTrue((Path(site_dir) / "index.html").exists())
            self.assertTrue((Path(site_dir) / "user" / "external-interactions.html").exists())
