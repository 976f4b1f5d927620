"""The one source of the current time, so that tests can move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_offset_seconds = 0.0


def now() -> datetime:
    current = datetime.now(UTC)
    if _offset_seconds:
        current += timedelta(seconds=_offset_seconds)
    return current


def advance(seconds: float) -> None:
    """Move the clock forward (tests only)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds
    _offset_seconds = 0.0


def to_paris(value: datetime) -> datetime:
    return value.astimezone(PARIS)
