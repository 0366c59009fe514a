"""Schemathesis over every operation of the OpenAPI schema, as each role: no answer is a server error
and none breaks the schema it is documented with (status, content type, body).

One migrated database, one runtime and one small city serve every generated case of the module (a
world per case would cost seconds each): the cases drift it (requests filed and moved, categories
and rules added, clients issued), which is what a fuzzer should meet anyway. Each test item logs its
user in afresh, so that a generated ``POST /auth/logout`` revokes nothing the next item needs.

The examples are few per operation and derandomised, so every run sends the same cases.
"""

from __future__ import annotations

import contextlib
import re

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine, insert, select, text

from api.app import create_app
from workflow.commands import accounts
from workflow.commands import clients as client_cmds
from workflow.db import unit_of_work
from workflow.models import Account, Base
from workflow.settings import Settings

from .conftest import build_world, database_for, make_settings, running
from .helpers import act, submit

# Schemathesis's strategies draw from the random module, which Hypothesis warns about once per case.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

# The schema as the app describes it, read without starting anything (``openapi()`` needs no database).
DESCRIPTION = create_app(Settings(dev_mode=True, database_url="sqlite://")).openapi()
# Generated cases per operation and role (examples and fuzzing, a fixed seed), and once per operation
# the coverage phase's boundary cases, which are many and the same for every role.
FUZZING = schemathesis.openapi.from_dict(DESCRIPTION, config=SchemathesisConfig.from_str(
    "seed = 2026\n[phases.coverage]\nenabled = false\n"))
BOUNDARIES = schemathesis.openapi.from_dict(DESCRIPTION, config=SchemathesisConfig.from_str(
    "seed = 2026\n[phases.examples]\nenabled = false\n[phases.fuzzing]\nenabled = false\n"))
ROLES = {"resident": "resident_a", "staff": "staff_a", "street_officer": "officer_1", "secretary": "secretary_a",
         "member": "member_1", "admin": "admin", "anonymous": None}
# Every check on every answer. Two limits in principle: an Open311 answer in XML is checked for its
# status and content type but its body against no schema (the description gives XML bodies as text;
# the same answer in JSON is validated in full), and the downloads (a photo, the .xlsx and PDF
# reports) are binary, checked for status and, where documented, content type. The photo a keyed Open311 client is
# shown (/open311/v2/media/{code}) is no operation of the description: its address is handed out,
# never built from parameters.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
OPEN311_FILE = ("POST", "/open311/v2/requests.{fmt}")


class City:
    def __init__(self, runtime, world, client, api_key):
        self.runtime, self.world, self.client, self.api_key = runtime, world, client, api_key


@contextlib.contextmanager
def reference_kept(database):
    """On PostgreSQL the seeded taxonomy and calendar outlive each test (conftest's KEEP), and the
    cases retire categories, add some and move holidays as an administrator: put them back after."""
    if database["kind"] != "postgresql":
        yield
        return
    tables = [Base.metadata.tables[name] for name in ("categories", "calendar_days")]
    engine = create_engine(database["url"])
    with engine.connect() as conn:
        saved = {table: [dict(row) for row in conn.execute(select(table)).mappings()] for table in tables}
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE categories, calendar_days CASCADE"))
            for table, rows in saved.items():
                rows.sort(key=lambda row: (row.get("parent_id") is not None, row.get("id", 0)))  # parents first
                conn.execute(insert(table), rows)
        engine.dispose()


@pytest.fixture(scope="module")
def city(database, redis_url, tmp_path_factory):
    directory = tmp_path_factory.mktemp("schema")
    with reference_kept(database), database_for(database, directory) as url, \
            running(make_settings(url, redis_url, directory)) as runtime:
        world = build_world(runtime)
        app = create_app(runtime.settings, runtime)
        with TestClient(app) as client:
            # A few requests in different states, so that generated small ids find something.
            for category in ("disputes.noise", "sanitation.corridor_clutter", "disputes.noise"):
                submit(client, world, "resident_a", category=category)
            runtime.drain()
            act(client, world, "staff_a", 1, "resolve", result="已上门协调。")
            act(client, world, "member_1", 2, "claim")
            with unit_of_work(runtime.sessions) as session:
                _, api_key = client_cmds.issue(session, None, "fuzzing app")
            yield City(runtime, world, client, api_key)
            runtime.drain()


def _auth(city, role: str) -> dict[str, str]:
    """A fresh token of the role's user, as a bearer header (none for the anonymous): a generated
    ``POST /auth/logout`` revokes the token it was sent with, and nothing else."""
    username = ROLES[role]
    if username is None:
        return {}
    with unit_of_work(city.runtime.sessions) as session:
        account = session.scalar(select(Account).where(Account.username == username))
        token, _ = accounts.issue_token(session, city.runtime.settings, account)
    return {"Authorization": f"Bearer {token}"}


def _send(case, city, role: str) -> None:
    if (case.method, case.path) == OPEN311_FILE and isinstance(case.body, dict) and role != "anonymous":
        case.body = {**case.body, "api_key": city.api_key}  # a real client files; the anonymous has no key
    case.call_and_validate(headers=_auth(city, role), checks=CHECKS, app=city.client.app)


QUICK = dict(derandomize=True, deadline=None, database=None,
             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                    HealthCheck.filter_too_much])


@pytest.mark.parametrize("role", list(ROLES))
@FUZZING.parametrize()
@hypothesis_settings(max_examples=4, **QUICK)
def test_every_operation_as_every_role(case, role, city):
    """A few generated cases of every operation as each role (and as nobody): whether the caller
    may or may not do it, the answer is documented and well formed."""
    _send(case, city, role)


# Who may use an operation, for the boundary cases below: a role refused at the door (403) would
# never carry a boundary value as far as the database. The first pattern that matches the path wins.
USER = [
    (r"^/open311/", "staff"),  # Open311 needs no login; a staff token is ignored there, the api_key counts
    (r"/requests/mine$|/evaluation$|/photos", "resident"),
    (r"/claim$|/release$|/report-result$|/registrations|/tasks$|/claims/mine$|/members/me/", "member"),
    (r"/street/|/whistles|/return-to-community$|/supervision$", "street_officer"),
    (r"/scores/\{period\}/(units|rankings|publications)|/reports/|/scoring-policy/|/scores/trend/", "secretary"),
    (r"^/api/v1/(requests|queue|community/members|members/\{)", "staff"),
    (r"", "admin"),
]


def user_of(path: str) -> str:
    return next(role for pattern, role in USER if re.search(pattern, path))


@BOUNDARIES.parametrize()
@hypothesis_settings(**QUICK)
def test_every_operation_at_its_boundaries(case, city):
    """Schemathesis's coverage phase (each parameter and field at its limits and just past them,
    missing, of the wrong type, with NUL and other unusual characters) as a user who may use the
    operation."""
    _send(case, city, user_of(case.path))

