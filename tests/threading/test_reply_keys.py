"""Signed reply keys: what they carry, and that nothing else verifies."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.mail.addresses import base_address, sub_address_tag
from gateway.threading.reply_keys import (
    KeyProblem,
    ReplyKey,
    Role,
    reply_address,
    sign_reply_key,
    verify_reply_key,
)

SECRET = b"0123456789abcdef0123456789abcdef"
KEY = ReplyKey(Role.AGENT, 1234, 7, date(2026, 11, 2))


def test_round_trip_through_a_reply_address() -> None:
    tag = sign_reply_key(SECRET, KEY)
    address = reply_address("support@acme.example", tag)
    assert base_address(address) == "support@acme.example"
    assert verify_reply_key(SECRET, sub_address_tag(address) or "") == KEY


def test_key_survives_mtas_that_change_case() -> None:
    assert verify_reply_key(SECRET, sign_reply_key(SECRET, KEY).upper()) == KEY


def test_other_secret_is_forged() -> None:
    assert verify_reply_key(b"another secret, 32 bytes long!!!", sign_reply_key(SECRET, KEY)) is (
        KeyProblem.FORGED
    )


@pytest.mark.parametrize("position", [1, 5, 12, 30, -1])
def test_any_changed_character_is_forged(position: int) -> None:
    tag = sign_reply_key(SECRET, KEY)
    swapped = "b" if tag[position] != "b" else "c"
    changed = tag[:position] + swapped + (tag[position + 1 :] if position != -1 else "")
    assert verify_reply_key(SECRET, changed) is not KEY
    assert verify_reply_key(SECRET, changed) in (KeyProblem.FORGED, KeyProblem.NOT_A_KEY)


def test_roles_do_not_mix() -> None:
    customer = ReplyKey(Role.CUSTOMER, 1234, 7, date(2026, 11, 2))
    assert sign_reply_key(SECRET, customer) != sign_reply_key(SECRET, KEY)
    found = verify_reply_key(SECRET, sign_reply_key(SECRET, customer))
    assert isinstance(found, ReplyKey)
    assert found.role is Role.CUSTOMER


@pytest.mark.parametrize("tag", ["", "orders", "r", "r" + "a" * 39, "rfoo-bar", "x" * 5000])
def test_ordinary_tags_are_not_keys(tag: str) -> None:
    assert verify_reply_key(SECRET, tag) is KeyProblem.NOT_A_KEY


@given(st.text(max_size=80))
def test_verify_never_raises(tag: str) -> None:
    assert verify_reply_key(SECRET, tag) in (KeyProblem.NOT_A_KEY, KeyProblem.FORGED)


@given(
    st.sampled_from(list(Role)),
    st.integers(1, 2**48 - 1),
    st.integers(1, 2**32 - 1),
    st.dates(date(2020, 1, 1), date(2060, 1, 1)),
)
def test_every_key_round_trips(role: Role, ticket: int, holder: int, issued: date) -> None:
    key = ReplyKey(role, ticket, holder, issued)
    assert verify_reply_key(SECRET, sign_reply_key(SECRET, key)) == key
