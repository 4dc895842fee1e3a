"""Fuzzing the HTTP API from its own OpenAPI schema with schemathesis, in-process (ASGI, no network).

Every operation the schema holds when the test runs is fuzzed twice: as an anonymous caller and with an admin's
bearer token (so the endpoints behind a login are fuzzed past their 401 too). Two checks: no 5xx answer, and
every answer matches the response schema declared for its status code. Anonymous callers may get 401/403/429
from endpoints that need a login or limit them: those are answers, not failures.

The run is bounded (MAX_EXAMPLES per operation and pass, a per-example deadline) to stay well under two
minutes; the number of generated cases is printed in pytest's terminal summary.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from support import CountingEmbedder, index_kb

MAX_EXAMPLES = 30  # per operation and pass; the schema's explicit examples and edge values come on top
DEADLINE = timedelta(seconds=5)  # per example: a request that slow is a finding (the machine is shared)
CHECKS = [not_a_server_error, response_schema_conformance]

CASES: Counter[tuple[str, str]] = Counter()  # (pass, operation) -> generated cases
STARTED: dict[str, float] = {}


class FuzzSummary:
    """A pytest plugin, registered by the tests below, that reports how many cases were generated."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not CASES:
            return
        tr = terminalreporter
        tr.section("schemathesis API fuzzing")
        for who in sorted({w for w, _ in CASES}):
            ops = {op: n for (w, op), n in CASES.items() if w == who}
            tr.write_line(f"{who}: {sum(ops.values())} cases over {len(ops)} operations")
            for op, n in sorted(ops.items()):
                tr.write_line(f"  {n:5d}  {op}")
        seconds = STARTED.get("end", time.monotonic()) - STARTED["start"]
        tr.write_line(f"total: {sum(CASES.values())} generated cases in {seconds:.0f} s")


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    if not request.config.pluginmanager.has_plugin("kb-fuzz-summary"):
        request.config.pluginmanager.register(FuzzSummary(), "kb-fuzz-summary")
    STARTED.setdefault("start", time.monotonic())
    yield
    STARTED["end"] = time.monotonic()


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis 4.32's lazy schemas read (and rename, for their reports) the private `Node._nodeid`, which
    # pytest 9.2 no longer has; giving the node one keeps them working.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """The app over the small test KB (tests/test_web.py's), with services built here and an admin token."""
    from app.runtime import open_runtime
    from kb.settings import Settings
    from web.app import create_app

    settings = index_kb(tmp_path_factory.mktemp("fuzzkb"))
    # The limits would turn most anonymous cases into 429s, which test nothing else.
    settings = settings.model_copy(
        update={
            k: 1_000_000
            for k in ("rate_limit_search", "rate_limit_feedback", "rate_limit_login")
            if k in Settings.model_fields
        }
    )
    with open_runtime(settings, embedder=CountingEmbedder()) as rt:
        rt.accounts.add_user("fuzz-admin", "admin", "fuzz admin password")
        yield create_app(settings, runtime=rt), rt.accounts.create_token("fuzz-admin", "fuzz")


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    app, _ = fuzz_app
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def admin_headers(fuzz_app):
    _, token = fuzz_app
    if token is None:
        pytest.skip("the app has no accounts: nothing is behind a login")
    return {"Authorization": f"Bearer {token}"}


schema = schemathesis.pytest.from_fixture("api_schema")
FUZZ_SETTINGS = hsettings(
    max_examples=MAX_EXAMPLES,
    deadline=DEADLINE,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def call_and_check(case, who: str, headers: dict | None = None) -> None:
    CASES[(who, case.operation.label)] += 1
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_anonymous_caller(case):
    call_and_check(case, "anonymous")


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_admin(case, admin_headers):
    call_and_check(case, "admin", admin_headers)
