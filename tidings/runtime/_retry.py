"""How a failed delivery is retried: the policy, the backoff, and the decision as a value
(`decide` makes it; the worker persists it)."""

from __future__ import annotations

import random
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta


class PermanentError(Exception):
    """An error retrying cannot fix (a message over the broker's size limit): `decide` makes
    the delivery dead at its first such failure, whatever the policy's `retry_on` and attempts
    left. Subclass it (or raise it from a handler) for failures that the same input will always
    repeat; the dead row keeps the reason, and `replay` runs it again once the cause is fixed."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failed delivery is retried: exponential backoff with full jitter, then `dead`.

    Attempt n (1-based) that fails is retried after min(max_delay, initial_delay * 2**(n-1))
    seconds, multiplied by a uniform random factor in [0, 1) when `jitter` is true. After
    `max_attempts` attempts the delivery is dead. Only exceptions that are instances of
    `retry_on` are retried; any other exception, and any `PermanentError`, makes the delivery
    dead at once.
    """

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 300.0
    jitter: bool = True
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("initial_delay and max_delay must not be negative")
def backoff(policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): exponential, capped at
    `max_delay`, with full jitter (uniform in [0, delay)) when the policy asks for it."""
    delay = min(policy.max_delay, policy.initial_delay * 2.0 ** (attempt - 1))
    return delay * random.random() if policy.jitter else delay


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What becomes of a failed attempt: retried at `retry_at`, or dead (`retry_at` None);
    `error` is the text the log keeps (the traceback)."""

    retry_at: datetime | None
    error: str

    @property
    def dead(self) -> bool:
        """True when the delivery is not retried."""
        return self.retry_at is None


def decide(policy: RetryPolicy, error: BaseException, attempt: int, now: datetime) -> RetryDecision:
    """The one rule: a `PermanentError`, an error `policy.retry_on` does not cover, or the last
    attempt, is dead; anything else is retried after `backoff(policy, attempt)` seconds."""
    text = "".join(traceback.format_exception(error)).rstrip()
    if (isinstance(error, PermanentError) or not isinstance(error, policy.retry_on)
            or attempt >= policy.max_attempts):
        return RetryDecision(None, text)
    return RetryDecision(now + timedelta(seconds=backoff(policy, attempt)), text)
