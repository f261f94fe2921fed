"""The OpenAPI description of the HTTP app, served at ``/openapi.json``.

Written by hand next to the handlers; ``tests/web/test_openapi.py`` validates
every response the tests get against it, so it stays true.
"""

from __future__ import annotations

from typing import Any

from gateway import __version__


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {
        400: "The body is not JSON",
        401: "No valid bearer token",
        404: "No such ticket, contact or user",
        413: "The body is too large",
        422: "A field is wrong; `field` names it",
    }
    return {str(c): _json(_ref("Error"), words[c]) for c in codes}


_STATUS = {"type": "string", "enum": ["new", "open", "waiting", "closed"]}
_PRIORITY = {"type": ["string", "null"], "enum": ["low", "normal", "high", "urgent", None]}
_PROPERTIES = {"type": "object", "additionalProperties": {"type": "string"}}
_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}

_ADDRESS = {"name": "address", "in": "path", "required": True, "schema": {"type": "string"}}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "field", "detail"],
        "properties": {
            "error": {"type": "string", "description": "A stable code: invalid, not_found, …"},
            "field": {"type": "string", "description": "The field (dotted) to change"},
            "detail": {"type": "string", "description": "What is wrong and what to do"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "detail"],
                    "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
                },
            },
        },
    },
    "Contact": {
        "type": "object",
        "required": ["email", "name", "owner"],
        "properties": {
            "email": {"type": "string"},
            "name": {"type": "string"},
            "owner": {**_nullable("string"), "description": "The owning agent's address"},
        },
    },
    "Ticket": {
        "type": "object",
        "required": [
            "number",
            "subject",
            "status",
            "channel",
            "contact",
            "assignee",
            "assignment_reason",
            "assignment_pending",
            "mail_assignee",
            "pipeline",
            "priority",
            "properties",
            "source",
            "message_count",
            "created_at",
            "updated_at",
            "last_message_at",
        ],
        "properties": {
            "number": {"type": "integer"},
            "subject": {"type": "string"},
            "status": _STATUS,
            "channel": {"type": "string"},
            "contact": _ref("Contact"),
            "assignee": {
                **_nullable("string"),
                "description": "The assigned agent's address; never a team",
            },
            "assignment_reason": {
                **_nullable("string"),
                "description": "Why the ticket went where it went",
            },
            "assignment_pending": {
                "type": "boolean",
                "description": "Unassigned until an eligible agent becomes available",
            },
            "mail_assignee": {
                "type": "boolean",
                "description": "The assignee was unavailable and gets the ticket by mail",
            },
            "pipeline": {"type": "string"},
            "priority": _PRIORITY,
            "properties": _PROPERTIES,
            "source": {"type": "string", "enum": ["mail", "api", "import"]},
            "message_count": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "last_message_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Message": {
        "type": "object",
        "required": [
            *("direction", "from", "from_name", "message_id", "date", "subject", "text"),
            "unread",
        ],
        "properties": {
            "direction": {"type": "string", "enum": ["in", "out", "note", "auto"]},
            "from": {"type": "string"},
            "from_name": {"type": "string"},
            "message_id": {"type": "string"},
            "date": {"type": "string", "format": "date-time"},
            "subject": {"type": "string"},
            "text": {"type": "string"},
            "unread": {
                "type": "boolean",
                "description": "Filed, but the body is still being read: the text is empty.",
            },
        },
    },
    "TicketWithMessages": {
        "allOf": [
            _ref("Ticket"),
            {
                "type": "object",
                "required": ["messages"],
                "properties": {"messages": {"type": "array", "items": _ref("Message")}},
            },
        ]
    },
    "TicketList": {
        "type": "object",
        "required": ["tickets"],
        "properties": {"tickets": {"type": "array", "items": _ref("Ticket")}},
    },
    "NewTicket": {
        "type": "object",
        "required": ["subject", "contact", "text"],
        "additionalProperties": False,
        "properties": {
            "channel": {"type": "string", "description": "Default: the first channel"},
            "subject": {"type": "string", "minLength": 1, "maxLength": 1000},
            "contact": {
                "type": "object",
                "required": ["email"],
                "additionalProperties": False,
                "properties": {"email": {"type": "string"}, "name": {"type": "string"}},
            },
            "text": {"type": "string", "minLength": 1},
            "properties": _PROPERTIES,
            "priority": _PRIORITY,
        },
    },
    "TicketChange": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "status": _STATUS,
            "priority": _PRIORITY,
            "assignee": {**_nullable("string"), "description": "An agent with a seat, or null"},
            "properties": {
                "type": "object",
                "additionalProperties": {"type": ["string", "null"]},
                "description": "Merged into the ticket's; null removes one",
            },
        },
    },
    "NewReply": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1},
            "agent": {
                "type": "string",
                "description": (
                    "The answering agent's address: the from-name and signature are theirs;"
                    " without it, the channel's company from-name"
                ),
            },
        },
    },
    "NewNote": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "minLength": 1},
            "author": {"type": "string", "description": "Who wrote it (default: api)"},
        },
    },
    "Posted": {
        "type": "object",
        "required": ["ticket", "message_id", "direction"],
        "properties": {
            "ticket": {"type": "integer"},
            "message_id": {"type": "string"},
            "direction": {"type": "string", "enum": ["out", "note"]},
        },
    },
    "ContactChange": {
        "type": "object",
        "required": ["owner"],
        "additionalProperties": False,
        "properties": {"owner": {**_nullable("string"), "description": "An agent with a seat"}},
    },
    "User": {
        "type": "object",
        "required": ["address", "status", "seat", "open_tickets"],
        "properties": {
            "address": {"type": "string"},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "status": {"type": "string", "enum": ["available", "away"]},
            "seat": {"type": "boolean"},
            "active": {"type": "boolean"},
            "teams": {"type": "array", "items": {"type": "string"}},
            "skills": {"type": "array", "items": {"type": "string"}},
            "open_tickets": {"type": "integer"},
        },
    },
    "UserList": {
        "type": "object",
        "required": ["users"],
        "properties": {"users": {"type": "array", "items": _ref("User")}},
    },
    "UserChange": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"type": "string", "enum": ["available", "away"]}},
    },
}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "summary": "Health of the daemon and its store",
            "security": [],
            "responses": {
                "200": _json({"type": "object"}, "Healthy"),
                "503": _json({"type": "object"}, "A check failed"),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "security": [],
            "responses": {
                "200": {
                    "description": "Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This description",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
        }
    },
    "/api/v1/tickets": {
        "post": {
            "summary": "Open a ticket (stored at once, routed and notified like mail)",
            "description": (
                "The assignee (or, unassigned, the channel's notify list) gets the"
                " notification a mail ticket sends; the contact gets the channel's"
                " acknowledgement when the channel acknowledges."
            ),
            "requestBody": _body("NewTicket"),
            "responses": {
                "201": _json(_ref("TicketWithMessages"), "The new ticket"),
                **_errors(400, 401, 413, 422),
            },
        },
        "get": {
            "summary": "List tickets, most recently updated first",
            "parameters": [
                _query("status", _STATUS, "Only this status"),
                _query("assignee", {"type": "string"}, "Agent address; empty: unassigned"),
                _query("channel", {"type": "string"}, "Channel name"),
                _query("contact", {"type": "string"}, "Contact address"),
                _query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                    "At most this many",
                ),
                _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Skip these"),
            ],
            "responses": {
                "200": _json(_ref("TicketList"), "Tickets"),
                **_errors(401, 422),
            },
        },
    },
    "/api/v1/tickets/{number}": {
        "parameters": [_NUMBER],
        "get": {
            "summary": "One ticket with its conversation",
            "responses": {
                "200": _json(_ref("TicketWithMessages"), "The ticket"),
                **_errors(401, 404, 422),
            },
        },
        "patch": {
            "summary": "Change status, priority, assignee or properties",
            "description": "A new assignee is told by mail, in the ticket's notification thread.",
            "requestBody": _body("TicketChange"),
            "responses": {
                "200": _json(_ref("TicketWithMessages"), "The changed ticket"),
                **_errors(400, 401, 404, 413, 422),
            },
        },
    },
    "/api/v1/tickets/{number}/replies": {
        "parameters": [_NUMBER],
        "post": {
            "summary": "Answer the customer through the channel (queued in the outbox)",
            "description": (
                "Sent exactly like an agent's answer by mail: from the team address with"
                " the channel's from-name and signature (text and HTML), in the customer's"
                " thread, with a Reply-To carrying the customer's reply key. The ticket"
                " waits for the customer."
            ),
            "requestBody": _body("NewReply"),
            "responses": {
                "201": _json(_ref("Posted"), "The answer is queued"),
                **_errors(400, 401, 404, 413, 422),
            },
        },
    },
    "/api/v1/tickets/{number}/notes": {
        "parameters": [_NUMBER],
        "post": {
            "summary": "Add an internal note (never sent)",
            "requestBody": _body("NewNote"),
            "responses": {
                "201": _json(_ref("Posted"), "The note"),
                **_errors(400, 401, 404, 413, 422),
            },
        },
    },
    "/api/v1/contacts/{address}": {
        "parameters": [
            {"name": "address", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "patch": {
            "summary": "Set or clear a contact's owner",
            "requestBody": _body("ContactChange"),
            "responses": {
                "200": _json(_ref("Contact"), "The contact"),
                **_errors(400, 401, 404, 413, 422),
            },
        },
    },
    "/api/v1/users": {
        "get": {
            "summary": "Agents with status, seat and open tickets",
            "responses": {"200": _json(_ref("UserList"), "Agents"), **_errors(401)},
        }
    },
    "/api/v1/users/{address}": {
        "parameters": [
            {"name": "address", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "patch": {
            "summary": "Set an agent available or away (waiting tickets follow)",
            "description": "Each waiting ticket the agent takes now is notified to them by mail.",
            "requestBody": _body("UserChange"),
            "responses": {
                "200": _json(_ref("User"), "The agent"),
                **_errors(400, 401, 404, 413, 422),
            },
        },
    },
}


def openapi_spec() -> dict[str, Any]:
    """The whole description."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Helpdesk Gateway API",
            "version": __version__,
            "description": "Tickets, contacts and agents of a Helpdesk Gateway.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
