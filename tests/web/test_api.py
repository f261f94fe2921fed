"""The tickets API on a real socket, against a running daemon; every answer checked against
the app's own OpenAPI description."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate
from sqlalchemy import text

from gateway.store.engine import make_sync_engine
from gateway.web.openapi import openapi_spec
from tests.conftest import PostgresCluster, RunningDaemon, start_daemon, write_config
from tests.inbound.test_smtp_e2e import mail, send

pytestmark = pytest.mark.integration

TOKEN = "s3cret-token-abcdefghijklmnop"

CONFIG = """
[api]
listen = "127.0.0.1:0"
token_file = "api.tokens"

[[agents]]
first_name = "Jane"
last_name = "Doe"
address = "jane@acme.example"
teams = ["tier1"]
skills = ["en", "billing"]

[[agents]]
first_name = "Bob"
address = "bob@acme.example"
teams = ["tier1"]
skills = ["de"]

[[agents]]
first_name = "Vic"
address = "vic@acme.example"
seat = false

[[agents]]
first_name = "Olga"
address = "olga@acme.example"

[[channels]]
name = "support"
kind = "team_email"
address = "support@acme.example"
company = "Acme"
routing = { assign = "users_and_teams", teams = ["tier1"], spread = "fewest_open" }

[[channels]]
name = "sales"
kind = "team_email"
address = "sales@acme.example"
priority = "high"
routing = { assign = "users_and_teams", users = ["olga@acme.example"] }
"""


class Checked:
    """An httpx client on the daemon's HTTP port whose every answer must fit the OpenAPI."""

    def __init__(self, daemon: RunningDaemon, port: int) -> None:
        self.daemon = daemon
        self.base = f"http://127.0.0.1:{port}"
        self.openapi = OpenAPI.from_dict(openapi_spec())
        self.checked = 0
        self.client = httpx.Client(
            base_url=self.base,
            timeout=httpx.Timeout(10.0, connect=5.0),
            headers={"Authorization": f"Bearer {TOKEN}"},
            event_hooks={"response": [self._check]},
        )

    def _check(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        content_type = response.headers.get("content-type", "").split(";")[0]
        mock_request = MockRequest(
            self.base,
            request.method,
            request.url.path,
            args=dict(request.url.params),
            headers=dict(request.headers),
            data=request.content,
        )
        mock_response = MockResponse(
            response.content, response.status_code, content_type=content_type
        )
        self.openapi.validate_response(mock_request, mock_response)
        self.checked += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def daemon(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningDaemon]:
    folder = tmp_path_factory.mktemp("api")
    (folder / "api.tokens").write_text(f"# API clients\n{TOKEN}\nother-token\n")
    env = dict(os.environ)
    if request.param == "postgresql":
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        env["GATEWAY__STORE__URL"] = cluster.new_database()
    else:
        env["GATEWAY__STORE__URL"] = f"sqlite:///{folder / 'var' / 'gateway.db'}"
    running = start_daemon(write_config(folder, CONFIG, addresses=()), env)
    yield running
    assert running.stop() == 0  # a clean shutdown with the HTTP app running
    running.wait_event("daemon.stopped", timeout=1)


@pytest.fixture(scope="module")
def api(daemon: RunningDaemon) -> Iterator[Checked]:
    port = int(daemon.wait_event("http.listening")["port"])
    checked = Checked(daemon, port)
    yield checked
    checked.client.close()
    assert checked.checked > 0


def new_ticket(api: Checked, **extra: Any) -> dict[str, Any]:
    body = {
        "subject": "Printer jammed",
        "contact": {"email": "Ann@Example.com", "name": "Ann Customer"},
        "text": "It jams on every page.",
        **extra,
    }
    answer = api.post("/api/v1/tickets", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_open_endpoints_need_no_token(api: Checked) -> None:
    health = api.get("/healthz", headers={"Authorization": ""})
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "checks": {"store": "ok"}}
    spec = api.get("/openapi.json", headers={"Authorization": ""}).json()
    validate(spec)
    assert spec == openapi_spec()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/tickets"),
        ("GET", "/api/v1/tickets"),
        ("GET", "/api/v1/tickets/1"),
        ("PATCH", "/api/v1/tickets/1"),
        ("POST", "/api/v1/tickets/1/replies"),
        ("POST", "/api/v1/tickets/1/notes"),
        ("PATCH", "/api/v1/contacts/ann@example.com"),
        ("GET", "/api/v1/users"),
        ("PATCH", "/api/v1/users/jane@acme.example"),
    ],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN]
)
def test_unauthenticated_calls_are_refused(
    api: Checked, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    with httpx.Client(base_url=api.base, timeout=10.0) as bare:
        answer = bare.request(method, path, headers=headers, json={"text": "x"})
    assert answer.status_code == 401
    assert answer.json()["field"] == "Authorization"
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_api_ticket_is_stored_and_routed_like_mail(api: Checked) -> None:
    ticket = new_ticket(api, properties={"language": "de"})
    assert ticket["channel"] == "support"  # the first channel by default
    assert ticket["source"] == "api"
    assert ticket["status"] == "new"
    assert ticket["contact"] == {"email": "ann@example.com", "name": "Ann Customer", "owner": None}
    assert ticket["assignee"] == "bob@acme.example"  # the only one with skill "de"
    assert "has skills de" in ticket["assignment_reason"]
    assert ticket["properties"] == {"language": "de"}
    assert [m["direction"] for m in ticket["messages"]] == ["in"]
    # The CLI reads the same store: shown like a mail ticket.
    shown = api.daemon.ticket(ticket["number"])
    assert shown["assignee"] == "bob@acme.example"
    assert shown["assignment_reason"] == ticket["assignment_reason"]
    got = api.get(f"/api/v1/tickets/{ticket['number']}").json()
    assert got["assignee"] == "bob@acme.example"
    assert got["messages"][0]["text"] == "It jams on every page."


def test_channel_defaults_apply_and_mail_tickets_show_alike(api: Checked) -> None:
    ticket = new_ticket(api, channel="sales", subject="Quote please")
    assert ticket["priority"] == "high"
    assert ticket["assignee"] == "olga@acme.example"
    send(api.daemon, mail("Mailed question", to="sales@acme.example"))
    api.daemon.wait_processed(1)  # committed (the log line comes before the commit)
    listed = api.get("/api/v1/tickets", params={"channel": "sales"}).json()["tickets"]
    by_subject = {t["subject"]: t for t in listed}
    assert by_subject["Mailed question"]["source"] == "mail"
    assert by_subject["Mailed question"]["assignee"] == "olga@acme.example"
    assert by_subject["Quote please"]["source"] == "api"


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ({"subject": "x", "contact": {"email": "a@example.com"}}, 422, "text", "Field required"),
        (
            {"subject": "x", "contact": {"email": "not an address"}, "text": "t"},
            422,
            "contact.email",
            "is not a mail address",
        ),
        (
            {"subject": "x", "contact": {"email": "a@example.com"}, "text": "t", "channel": "no"},
            422,
            "channel",
            "no channel is named 'no'",
        ),
        (
            {"subject": "", "contact": {"email": "a@example.com"}, "text": "t"},
            422,
            "subject",
            "at least 1 character",
        ),
        (
            {"subject": "x", "contact": {"email": "a@example.com"}, "text": "t", "colour": 1},
            422,
            "colour",
            "Extra inputs are not permitted",
        ),
        (
            {"subject": "x", "contact": {"email": "a@example.com"}, "text": "t", "priority": "!"},
            422,
            "priority",
            "'low', 'normal', 'high' or 'urgent'",
        ),
    ],
)
def test_bad_tickets_name_the_field(
    api: Checked, body: dict[str, Any], status: int, field: str, words: str
) -> None:
    answer = api.post("/api/v1/tickets", json=body)
    assert answer.status_code == status
    assert answer.json()["field"] == field
    assert words in answer.json()["detail"]


def test_bad_bodies_and_unknown_things(api: Checked) -> None:
    headers = {"Content-Type": "application/json"}
    broken = api.post("/api/v1/tickets", content=b"{not json", headers=headers)
    assert (broken.status_code, broken.json()["field"]) == (400, "body")
    huge = api.post("/api/v1/tickets", content=b"[" + b" " * 2_000_000 + b"]", headers=headers)
    assert (huge.status_code, huge.json()["error"]) == (413, "too_large")
    missing = api.get("/api/v1/tickets/99999")
    assert (missing.status_code, missing.json()["field"]) == (404, "number")
    assert api.post("/api/v1/tickets/99999/notes", json={"text": "n"}).status_code == 404
    assert api.patch("/api/v1/tickets/99999", json={"status": "open"}).status_code == 404
    bad_number = api.get("/api/v1/tickets/abc")
    assert (bad_number.status_code, bad_number.json()["field"]) == (422, "number")
    limit = api.get("/api/v1/tickets", params={"limit": "0"})
    assert (limit.status_code, limit.json()["field"]) == (422, "limit")


def test_patch_status_priority_properties_and_assignee(api: Checked) -> None:
    ticket = new_ticket(api, properties={"product": "printers", "language": "en"})
    path = f"/api/v1/tickets/{ticket['number']}"
    changed = api.patch(
        path,
        json={
            "status": "open",
            "priority": "urgent",
            "properties": {"language": None, "os": "mac"},
        },
    ).json()
    assert (changed["status"], changed["priority"]) == ("open", "urgent")
    assert changed["properties"] == {"product": "printers", "os": "mac"}
    moved = api.patch(path, json={"assignee": "jane@acme.example"}).json()
    assert moved["assignee"] == "jane@acme.example"
    assert moved["assignment_reason"] == "assigned through the API"
    refused = api.patch(path, json={"assignee": "vic@acme.example"})
    assert (refused.status_code, refused.json()["field"]) == (422, "assignee")
    assert "has no seat" in refused.json()["detail"]
    nobody = api.patch(path, json={"assignee": None}).json()
    assert nobody["assignee"] is None
    bad = api.patch(path, json={"status": "archived"})
    assert (bad.status_code, bad.json()["field"]) == (422, "status")
    assert api.get("/api/v1/tickets", params={"assignee": ""}).status_code == 200
    mine = api.get("/api/v1/tickets", params={"status": "open"}).json()["tickets"]
    assert ticket["number"] in [t["number"] for t in mine]


def test_reply_is_queued_in_the_customers_thread_and_notes_are_not(
    api: Checked, daemon: RunningDaemon
) -> None:
    ticket = new_ticket(api, subject="Where is my order")
    number = ticket["number"]
    first_in = ticket["messages"][0]["message_id"]
    note = api.post(f"/api/v1/tickets/{number}/notes", json={"text": "Called the courier"})
    assert note.status_code == 201
    reply = api.post(
        f"/api/v1/tickets/{number}/replies",
        json={"text": "It ships today.", "agent": "jane@acme.example"},
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["direction"] == "out"
    got = api.get(f"/api/v1/tickets/{number}").json()
    assert [m["direction"] for m in got["messages"]] == ["in", "note", "out"]
    data_dir = daemon.config.parent / "var"
    engine = make_sync_engine(daemon.env["GATEWAY__STORE__URL"])
    with engine.connect() as db:
        rows = db.execute(
            text(
                "SELECT kind, mail_from, rcpt_to, payload_sha256, message_id, state FROM outbox"
                " WHERE ticket_id = :n AND kind != 'notify'"
            ),
            {"n": number},
        ).all()
    engine.dispose()
    [(kind, mail_from, rcpt_to, sha, message_id, state)] = rows  # the note is never sent
    if isinstance(rcpt_to, str):
        rcpt_to = json.loads(rcpt_to)
    assert (kind, mail_from, rcpt_to, state) == (
        "answer",
        "support@acme.example",
        ["ann@example.com"],
        "pending",
    )
    assert message_id == reply.json()["message_id"]
    raw = (data_dir / "blobs" / sha[:2] / sha[2:]).read_bytes()
    sent = email.message_from_bytes(raw, policy=policy.default)
    # Rendered by the same code as an agent's answer by mail (the channel has no signature).
    assert sent["From"] == "Jane from Acme <support@acme.example>"
    assert sent["To"] == "Ann Customer <ann@example.com>"
    assert sent["In-Reply-To"] == f"<{first_in}>"
    assert sent["Subject"] == f"Re: Where is my order [#{number}]"
    assert sent.get_content_type() == "multipart/alternative"
    assert str(sent["Reply-To"]).startswith("Jane from Acme <support+r")
    assert sent["Message-ID"] == f"<{message_id}>"
    plain = sent.get_body(preferencelist=("plain",))
    assert plain is not None
    assert plain.get_content().strip() == "It ships today."
    unknown = api.post(f"/api/v1/tickets/{number}/replies", json={"text": "x", "agent": "z@x.io"})
    assert (unknown.status_code, unknown.json()["field"]) == (422, "agent")


def test_contact_owner_and_user_status(api: Checked) -> None:
    new_ticket(api)
    owner = api.patch("/api/v1/contacts/ann@example.com", json={"owner": "olga@acme.example"})
    assert owner.json() == {
        "email": "ann@example.com",
        "name": "Ann Customer",
        "owner": "olga@acme.example",
    }
    refused = api.patch("/api/v1/contacts/ann@example.com", json={"owner": "vic@acme.example"})
    assert (refused.status_code, refused.json()["field"]) == (422, "owner")
    unknown = api.patch("/api/v1/contacts/nobody@example.com", json={"owner": None})
    assert unknown.status_code == 404
    api.patch("/api/v1/contacts/ann@example.com", json={"owner": None})
    for agent in ("jane@acme.example", "bob@acme.example"):
        assert (
            api.patch(f"/api/v1/users/{agent}", json={"status": "away"}).json()["status"] == "away"
        )
    waiting = new_ticket(api, subject="Anyone there")
    assert waiting["assignee"] is None
    assert waiting["assignment_pending"] is True
    back = api.patch("/api/v1/users/jane@acme.example", json={"status": "available"}).json()
    assert back["status"] == "available"
    assert api.get(f"/api/v1/tickets/{waiting['number']}").json()["assignee"] == "jane@acme.example"
    api.patch("/api/v1/users/bob@acme.example", json={"status": "available"})
    users = {u["address"]: u for u in api.get("/api/v1/users").json()["users"]}
    assert users["vic@acme.example"]["seat"] is False
    assert api.patch("/api/v1/users/zed@acme.example", json={"status": "away"}).status_code == 404


def test_metrics_and_tokens_never_logged(api: Checked, daemon: RunningDaemon) -> None:
    new_ticket(api)
    text = api.get("/metrics", headers={"Authorization": ""}).text
    assert 'gateway_tickets{status="new"}' in text
    assert "gateway_tickets_waiting_for_agent" in text
    assert 'gateway_http_requests_total{method="POST",route="/api/v1/tickets",status="201"}' in text
    assert 'route="/api/v1/tickets",status="401"' in text
    assert not [e for e in daemon.events if TOKEN in json.dumps(e)]


# -- generated requests: whatever comes in, the answer is 2xx or 4xx and fits the description --

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=30),
    st.floats(allow_nan=False, allow_infinity=False),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
EMAILS = st.sampled_from(["ann@example.com", "x@y.example", "not-an-address", "", "@"])
NEW_TICKETS = st.fixed_dictionaries(
    {},
    optional={
        "channel": st.sampled_from(["support", "sales", "nope"]) | JSON,
        "subject": st.text(max_size=40) | JSON,
        "contact": st.fixed_dictionaries(
            {}, optional={"email": EMAILS | JSON, "name": st.text(max_size=20)}
        )
        | JSON,
        "text": st.text(max_size=40) | JSON,
        "properties": st.dictionaries(
            st.sampled_from(["language", "product", "x"]), st.sampled_from(["de", "en", "fr"])
        )
        | JSON,
        "priority": st.sampled_from(["low", "urgent", "nope", None]),
    },
)
CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["new", "open", "waiting", "closed", "gone", None]),
        "priority": st.sampled_from(["low", "high", None, 3]),
        "assignee": st.sampled_from(["jane@acme.example", "vic@acme.example", "zed@x.io", None]),
        "properties": st.dictionaries(st.text(max_size=5), st.none() | st.text(max_size=5)) | JSON,
    },
)
GENERATED = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@GENERATED
@given(body=NEW_TICKETS | JSON)
def test_generated_new_tickets_fit_the_description(api: Checked, body: Any) -> None:
    answer = api.post("/api/v1/tickets", json=body)
    assert answer.status_code in (201, 400, 422), answer.text


@GENERATED
@given(body=CHANGES, number=st.sampled_from(["1", "2", "99999", "0", "x"]))
def test_generated_changes_fit_the_description(api: Checked, body: Any, number: str) -> None:
    answer = api.patch(f"/api/v1/tickets/{number}", json=body)
    assert answer.status_code in (200, 400, 404, 422), answer.text


@GENERATED
@given(
    params=st.dictionaries(
        st.sampled_from(["status", "assignee", "channel", "contact", "limit", "offset"]),
        st.sampled_from(["", "open", "new", "0", "5", "-1", "600", "jane@acme.example", "x"]),
    )
)
def test_generated_listings_fit_the_description(api: Checked, params: dict[str, str]) -> None:
    answer = api.get("/api/v1/tickets", params=params)
    assert answer.status_code in (200, 422), answer.text


def test_serve_refuses_a_missing_token_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, CONFIG, addresses=())
    ran = subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(config), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "GATEWAY__SMTP__LISTEN": "127.0.0.1:0"},
    )
    assert ran.returncode == 2
    assert "api.token_file" in ran.stderr
    assert "create it with one token a line" in ran.stderr
