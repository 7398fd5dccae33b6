"""The single error hierarchy of aiops.

Every error aiops raises on purpose derives from `AiopsError` and is either `RetryableError` (try again
later: a broker or receiver is down, a timeout) or `PermanentError` (retrying cannot help: bad input,
bad config, a 4xx from a receiver). The runtime's per-event guard turns permanent errors into
dead-letter records and retries retryable ones up to a deadline.
"""

from __future__ import annotations


class AiopsError(Exception):
    """Base class of every error aiops raises deliberately."""


class RetryableError(AiopsError):
    """A transient failure: the same operation may succeed later."""


class PermanentError(AiopsError):
    """A failure that retrying cannot fix."""


class ConfigError(PermanentError):
    """The configuration file or environment overrides are invalid."""


class UsageError(PermanentError):
    """A command-line argument cannot be used: a file that cannot be read or written, an address in use."""


class DatasetError(UsageError):
    """A dataset folder or file an evaluation (`aiops eval`) needs is missing or unreadable."""


class InvalidEventError(PermanentError):
    """An inbound message violates the event contract.

    `reason` is a short machine-friendly class (``empty``, ``oversized``, ``not_utf8``, ``invalid_json``,
    ``non_finite``, ``schema``) and `detail` a human-readable explanation; both go to the dead-letter record.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class PayloadRejectedError(PermanentError):
    """An HTTP ingest payload cannot become events (the HTTP front answers 400, or 413 for ``oversized``).

    `reason` is a short class (``invalid_json``, ``too_deep``, ``oversized``, ``schema``, ...) and `detail`
    says what and where (a JSON path such as ``alerts[2].labels.severity``).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class DeliveryError(RetryableError):
    """A sink could not deliver (connection error, 5xx, 408, 429); may succeed on retry."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class DeliveryRejectedError(PermanentError):
    """A sink refused the payload for good (4xx other than 408/429)."""


class BrokerUnavailableError(RetryableError):
    """The Kafka broker could not be reached or started."""


class StoreUnavailableError(RetryableError):
    """The incident store's database could not be reached or opened (the message never holds a password)."""


class ApiUnavailableError(RetryableError):
    """The operator API cannot be reached, or answered 5xx (the `aiops incidents` client)."""
