"""Fuzzing the pages and forms that /openapi.json leaves out (issue 16): schemathesis, in-process, over the schema
of every route (tests/support.full_openapi), valid and malformed values alike.

tests/test_fuzz_api.py fuzzes the JSON API from its published schema; this file takes the rest: the help center's
pages, the contact and feedback forms, login, the agent's forms. Checks: no 5xx, and a refused field is named: a
400 page lists the fields that were not valid (by name, never echoing the value), a 422 from the API names them in
`detail[].loc`. Staff forms are fuzzed with an admin's bearer token (no CSRF needed), so they are reached past the
login.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from test_fuzz_api import _node_id_for_schemathesis, fuzz_app  # noqa: F401  (fixtures: the same app, the same fix)

from support import full_openapi

MAX_EXAMPLES = 25  # per operation and mode
DEADLINE = timedelta(seconds=5)
INVALID_FIELDS = re.compile(r'<p class="invalid-fields">[^<:]*: ([^<]*)\.</p>')


@pytest.fixture(scope="module")
def warm_app(request):
    """test_fuzz_api's app and admin token, started once here: the first start fits the answered calibration,
    which must not fall inside a timed example."""
    app, token = request.getfixturevalue("fuzz_app")
    with TestClient(app):
        pass
    return app, token


@pytest.fixture(scope="module")
def forms_schema(warm_app):
    app, _ = warm_app
    published = {(path, method) for path, ops in app.openapi()["paths"].items() for method in ops}
    raw = full_openapi(app)
    raw["paths"] = {
        path: {m: op for m, op in ops.items() if (path, m) not in published}
        for path, ops in raw["paths"].items()
        if any((path, m) not in published for m in ops)
    }
    assert {"/contact", "/login", "/search", "/articles/{article_id}/feedback", "/agent"} <= set(raw["paths"])
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = app
    loaded.config.generation.update(modes=list(schemathesis.GenerationMode))
    return loaded


def _declared_fields(case) -> set[str]:
    op = case.operation.definition.raw
    names = {p["name"] for p in op.get("parameters", [])}
    body = op.get("requestBody", {}).get("content", {})
    for media in body.values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            schema = case.operation.schema.raw_schema["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        names |= set(schema.get("properties", {}))
    return names


def refused_fields_are_named(case, response) -> None:
    """A 400 page or a 422 answer that refuses input says which of the operation's fields it refused."""
    if response.status_code == 400 and response.headers.get("content-type", [""])[0].startswith("application/json"):
        # A body that cannot be decoded at all (a multipart body without its boundary): Starlette's answer says so.
        assert "multipart" in response.json()["detail"].lower(), response.text
        return
    if response.status_code == 400:
        found = INVALID_FIELDS.search(response.text)
        assert found, f"{case.operation.label}: a 400 that names no field"
        named = {f.strip().split(".")[0] for f in found.group(1).split(",")}
    elif response.status_code == 422 and response.headers.get("content-type", [""])[0].startswith("application/json"):
        detail = response.json().get("detail", [])
        if isinstance(detail, str):  # a route's own check: "field: what is wrong"
            named = {detail.partition(":")[0]}
        else:
            named = {str(e["loc"][1]) for e in detail if len(e.get("loc", ())) > 1}
    else:
        return
    assert named, f"{case.operation.label}: {response.status_code} names no field"
    assert named <= _declared_fields(case) | {"body"}, (case.operation.label, named)


schema = schemathesis.pytest.from_fixture("forms_schema")
FUZZ_SETTINGS = hsettings(
    max_examples=MAX_EXAMPLES,
    deadline=DEADLINE,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _call(case, headers=None):
    # Redirects are not followed: a login redirect's target is another operation, fuzzed on its own.
    response = case.call(headers=headers, allow_redirects=False)
    assert response.status_code < 500, (case.operation.label, response.status_code, response.text[:300])
    refused_fields_are_named(case, response)


@schema.parametrize()
@FUZZ_SETTINGS
def test_pages_and_forms_as_anonymous_caller(case):
    _call(case)


@schema.parametrize()
@FUZZ_SETTINGS
def test_pages_and_forms_as_admin(case, warm_app):
    _call(case, {"Authorization": f"Bearer {warm_app[1]}"})
