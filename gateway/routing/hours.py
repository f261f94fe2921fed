"""Working hours: when an agent takes new tickets, in their own time zone.

Written in the config as ``{ tz = "Europe/Amsterdam", mon-fri = "09:00-17:00",
sat = "10:00-12:00" }``: a key is a day (``mon`` … ``sun``) or a range of days
(``mon-fri``, or ``sun-thu`` across the week end), a value one or more spans
``HH:MM-HH:MM`` separated by commas. A span whose end is not after its start
runs past midnight (``22:00-06:00``).
Times are wall-clock times in ``tz``, so a 09:00 start stays 09:00 across
daylight-saving changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Span:
    """Minutes after local midnight: ``start`` inclusive, ``end`` exclusive (may pass 1440)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """An agent's week, in the time zone ``tz``."""

    tz: str
    week: tuple[tuple[Span, ...], ...]
    """Seven entries, Monday first: the spans that start on that day."""

    def describe(self) -> str:
        """The hours as written in the config, for explanations."""
        parts = [
            f"{DAYS[day]} "
            + ",".join(f"{_hhmm(s.start)}-{_hhmm(s.end % 1440)}" for s in self.week[day])
            for day in range(7)
            if self.week[day]
        ]
        return f"{'; '.join(parts)} ({self.tz})"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_working_hours(spec: Mapping[str, str]) -> WorkingHours:
    """Read the config's table; raises ValueError saying what to change."""
    tz = spec.get("tz")
    if not tz:
        raise ValueError('working_hours needs tz, an IANA time zone like tz = "Europe/Amsterdam"')
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"working_hours tz {tz!r} is not a known IANA time zone (like Europe/Amsterdam)"
        ) from exc
    week: list[list[Span]] = [[] for _ in DAYS]
    for key, value in spec.items():
        if key == "tz":
            continue
        for day in _days(key):
            week[day].extend(_spans(key, value))
    if not any(week):
        raise ValueError('working_hours names no days: add one like mon-fri = "09:00-17:00"')
    return WorkingHours(tz, tuple(tuple(sorted(d, key=lambda s: s.start)) for d in week))


def _days(key: str) -> tuple[int, ...]:
    first, dash, last = key.strip().lower().partition("-")
    if first not in DAYS or (dash and last not in DAYS):
        raise ValueError(
            f"working_hours key {key!r} is not a day or range of days like mon, sat or mon-fri"
        )
    if not dash:
        return (DAYS.index(first),)
    start, end = DAYS.index(first), DAYS.index(last)
    # A range may wrap around the week end: sun-thu is Sunday to Thursday.
    return tuple((start + i) % 7 for i in range((end - start) % 7 + 1))


def _spans(key: str, value: str) -> list[Span]:
    spans = []
    for part in str(value).split(","):
        match = _SPAN.match(part)
        if match is None:
            raise ValueError(
                f"working_hours {key} = {value!r}: write spans like 09:00-17:00 (comma-separated)"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"working_hours {key} = {value!r}: {part.strip()} is not a time")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            end += 1440  # past midnight into the next day
        spans.append(Span(start, end))
    return spans


def is_working(hours: WorkingHours, now: datetime) -> bool:
    """True when the aware datetime ``now`` falls in ``hours`` (local wall-clock time)."""
    local = now.astimezone(ZoneInfo(hours.tz))
    minute = local.hour * 60 + local.minute
    today = local.weekday()
    yesterday = (today - 1) % 7
    if any(s.start <= minute < s.end for s in hours.week[today]):
        return True
    # Spans of yesterday that run past midnight.
    return any(s.end > 1440 and minute < s.end - 1440 for s in hours.week[yesterday])
