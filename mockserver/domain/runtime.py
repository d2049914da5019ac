"""The injected sources of time and randomness: nothing else in the mock reads the wall clock or `random`."""

from __future__ import annotations

import random
import string
import threading
import uuid
from datetime import UTC, datetime, timedelta

__all__ = ("Clock", "Ids", "epoch_ms", "iso_micros", "micros", "parse_iso", "to_iso")


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def to_iso(dt: datetime) -> str:
    """`2026-01-02T03:04:05.678Z`: the real server's JSON timestamps (UTC, milliseconds, `Z`)."""
    dt = dt.astimezone(UTC)
    # not strftime: its %Y does not pad years before 1000 on every platform
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
        f".{dt.microsecond // 1000:03d}Z"
    )


def parse_iso(text: str) -> datetime:
    """Inverse of `to_iso`; also accepts offsets and naive values (taken as UTC)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_UNIX_EPOCH = _UNIX_EPOCH.replace(tzinfo=None)
_MICROSECOND = timedelta(microseconds=1)


def epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds (`Date.now()`): the time fields the runner reads as numbers (milestone `ts`, command
    `timestamp`)."""
    return int(moment.timestamp() * 1000)


def micros(dt: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime: orders exactly as the datetimes do."""
    return (dt - _UNIX_EPOCH) // _MICROSECOND


def iso_micros(text: str) -> int:
    """`micros(parse_iso(text))`: the sort key the store's indexes keep instead of re-parsing ISO strings."""
    if len(text) == 24 and text[23] == "Z":  # `to_iso`'s own format: UTC wall time, no zone arithmetic (2x faster)
        try:
            dt = datetime.fromisoformat(text[:23])
        except ValueError:
            dt = None
        if dt is not None and dt.tzinfo is None:
            return (dt - _NAIVE_UNIX_EPOCH) // _MICROSECOND
    return micros(parse_iso(text))


class Clock:
    """Real time plus an offset that `advance` moves, or frozen at a datetime (then `advance` moves that).

    >>> clock = Clock(frozen_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> clock.advance(90); clock.iso()
    '2026-01-01T00:01:30.000Z'
    """

    __slots__ = ("_frozen", "_lock", "_offset")

    def __init__(self, *, frozen_at: datetime | None = None, offset_seconds: float = 0.0) -> None:
        assert frozen_at is None or frozen_at.tzinfo is not None, "frozen_at must be timezone-aware"
        self._lock = threading.Lock()
        self._frozen = frozen_at.astimezone(UTC) if frozen_at else None
        self._offset = timedelta(seconds=offset_seconds)

    def now(self) -> datetime:
        with self._lock:
            base = self._frozen if self._frozen is not None else _wall_clock()
            return base + self._offset

    def iso(self) -> str:
        return to_iso(self.now())

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at `at` (default: the current mock time); the offset restarts at zero."""
        current = self.now() if at is None else at.astimezone(UTC)
        with self._lock:
            self._frozen, self._offset = current, timedelta()

    def unfreeze(self) -> None:
        """Let time run again from the current mock time."""
        current = self.now()
        with self._lock:
            self._frozen = None
            self._offset = current - _wall_clock()

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    @property
    def offset_seconds(self) -> float:
        """How far `advance` has moved the clock (since it was frozen, for a frozen clock)."""
        with self._lock:
            return self._offset.total_seconds()


_USER_CODE_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "IO")


class Ids:
    """Every id, key and token of the mock, drawn from one seeded `random.Random`."""

    __slots__ = ("_lock", "_rng", "seed")

    def __init__(self, seed: int | str = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reseed(self, seed: int | str | None = None) -> None:
        with self._lock:
            self.seed = self.seed if seed is None else seed
            self._rng = random.Random(self.seed)

    def uuid4(self) -> str:
        with self._lock:
            bits = self._rng.getrandbits(128)
        return str(uuid.UUID(int=bits, version=4))

    def hex(self, nbytes: int) -> str:
        with self._lock:
            bits = self._rng.getrandbits(8 * nbytes)
        return f"{bits:0{2 * nbytes}x}"

    def api_key(self) -> str:
        """`bld_` + 64 lowercase hex (32 bytes)."""
        return "bld_" + self.hex(32)

    def user_code(self) -> str:
        """Device login code such as `WXYZ-1234` (letters without I and O)."""
        with self._lock:
            letters = "".join(self._rng.choice(_USER_CODE_LETTERS) for _ in range(4))
            digits = "".join(self._rng.choice(string.digits) for _ in range(4))
        return f"{letters}-{digits}"
