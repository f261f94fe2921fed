"""Working hours across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.routing.decide import Agent, availability
from gateway.routing.hours import is_working, parse_working_hours

AMSTERDAM = parse_working_hours({"tz": "Europe/Amsterdam", "mon-fri": "09:00-17:00"})
NEW_YORK = parse_working_hours({"tz": "America/New_York", "mon-fri": "09:00-17:00"})
NIGHTS = parse_working_hours({"tz": "Asia/Tokyo", "sun-thu": "22:00-06:00"})
SPLIT = parse_working_hours({"tz": "UTC", "mon": "08:00-12:00,13:00-17:00", "sat": "10:00-12:00"})


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours", "now", "working"),
    [
        # Amsterdam winter (UTC+1): 09:00 local is 08:00 UTC.
        (AMSTERDAM, utc(2026, 3, 27, 7, 59), False),
        (AMSTERDAM, utc(2026, 3, 27, 8, 0), True),
        (AMSTERDAM, utc(2026, 3, 27, 15, 59), True),
        (AMSTERDAM, utc(2026, 3, 27, 16, 0), False),
        # EU summer time starts Sunday 29 March 2026: Monday 09:00 local is 07:00 UTC.
        (AMSTERDAM, utc(2026, 3, 30, 6, 59), False),
        (AMSTERDAM, utc(2026, 3, 30, 7, 0), True),
        (AMSTERDAM, utc(2026, 3, 30, 15, 0), False),
        # EU summer time ends Sunday 25 October 2026: Monday back to UTC+1.
        (AMSTERDAM, utc(2026, 10, 23, 7, 0), True),
        (AMSTERDAM, utc(2026, 10, 26, 7, 0), False),
        (AMSTERDAM, utc(2026, 10, 26, 8, 0), True),
        # Weekend.
        (AMSTERDAM, utc(2026, 3, 28, 10, 0), False),
        # US summer time starts 8 March 2026, three weeks before Europe's.
        (NEW_YORK, utc(2026, 3, 6, 13, 59), False),  # 08:59 EST
        (NEW_YORK, utc(2026, 3, 6, 14, 0), True),  # 09:00 EST
        (NEW_YORK, utc(2026, 3, 9, 13, 0), True),  # 09:00 EDT
        (NEW_YORK, utc(2026, 3, 9, 12, 59), False),
        # Friday 17:00 in New York is already Saturday in Tokyo: the weekday is local.
        (NEW_YORK, utc(2026, 3, 13, 20, 30), True),
        # Night shift past midnight: Thursday 22:00 to Friday 06:00 Tokyo (UTC+9).
        (NIGHTS, utc(2026, 11, 5, 13, 0), True),  # Thu 22:00
        (NIGHTS, utc(2026, 11, 5, 20, 59), True),  # Fri 05:59
        (NIGHTS, utc(2026, 11, 5, 21, 0), False),  # Fri 06:00
        (NIGHTS, utc(2026, 11, 6, 13, 0), False),  # Fri 22:00: not a shift start
        (NIGHTS, utc(2026, 11, 7, 20, 0), False),  # Sun 05:00 after Saturday: no shift
        (NIGHTS, utc(2026, 11, 8, 20, 0), True),  # Mon 05:00 after Sunday's shift
        # Split days and single days.
        (SPLIT, utc(2026, 11, 2, 12, 30), False),
        (SPLIT, utc(2026, 11, 2, 13, 0), True),
        (SPLIT, utc(2026, 11, 7, 11, 0), True),
        (SPLIT, utc(2026, 11, 3, 11, 0), False),
    ],
)
def test_is_working(hours: object, now: datetime, working: bool) -> None:
    assert is_working(hours, now) is working  # type: ignore[arg-type]


def test_same_instant_two_agents_two_answers() -> None:
    instant = utc(2026, 3, 16, 14, 30)  # 15:30 in Amsterdam, 10:30 in New York
    late = utc(2026, 3, 16, 17, 30)  # 18:30 in Amsterdam, 13:30 in New York
    jane = Agent("jane@acme.example", working_hours=AMSTERDAM)
    sam = Agent("sam@acme.example", working_hours=NEW_YORK)
    assert availability(jane, instant) is None
    assert availability(sam, instant) is None
    assert "outside working hours" in (availability(jane, late) or "")
    assert availability(sam, late) is None


def test_away_wins_over_working_hours() -> None:
    jane = Agent("jane@acme.example", away=True, working_hours=AMSTERDAM)
    assert availability(jane, utc(2026, 3, 16, 10, 0)) == "away"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"mon-fri": "09:00-17:00"}, "needs tz"),
        ({"tz": "Mars/Olympus", "mon": "09:00-17:00"}, "not a known IANA time zone"),
        ({"tz": "UTC", "monday": "09:00-17:00"}, "not a day or range of days"),
        ({"tz": "UTC", "mon": "9-5"}, "write spans like 09:00-17:00"),
        ({"tz": "UTC", "mon": "09:00-25:00"}, "is not a time"),
        ({"tz": "UTC"}, "names no days"),
    ],
)
def test_bad_hours_say_what_to_change(spec: dict[str, str], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_working_hours(spec)
