"""A consumed record as an event of the contract, or the reason it is not one (for its dead letter).

`RecordDecoder` decodes an events-topic record (JSON against the contract, its `ts` within the plausible
window around the record's broker timestamp) or a raw-log topic's line (`aiops.rawlogs`). Any unexpected
error becomes `internal_error` instead of escaping: the per-record guard covers decoding too. It does not
dead-letter or count anything; the detection worker does.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.structs import ConsumerRecord

from aiops.config import IngestConfig
from aiops.errors import InvalidEventError
from aiops.events import InboundEvent, check_event_time, decode_event
from aiops.rawlogs import log_event_from_line

log = logging.getLogger("aiops.detect")

Decoded = InboundEvent | InvalidEventError
"""A record decoded, or why it could not be."""


class RecordDecoder:
    """Records of the events topic and of the configured raw-log topics, decoded."""

    def __init__(self, ingest: IngestConfig) -> None:
        self._ingest = ingest
        self._raw_topics = {raw.topic: raw for raw in ingest.raw_logs}

    def decode(self, record: ConsumerRecord[Any, Any]) -> Decoded:
        try:
            return self._decode(record)
        except InvalidEventError as error:
            return error
        except Exception as error:  # the per-event guard covers decoding too (e.g. a raw line's bad timestamp)
            log.exception("decoding failed", extra={"topic": record.topic, "partition": record.partition,
                                                    "offset": record.offset})
            return InvalidEventError("internal_error", repr(error))

    def _decode(self, record: ConsumerRecord[Any, Any]) -> InboundEvent:
        """The record as an event of the contract, its `ts` within the plausible window around the record's
        broker timestamp (none when the record has none, i.e. <= 0: then only the contract's range applies)."""
        raw = self._raw_topics.get(record.topic)
        cfg = self._ingest
        if raw is None:
            event = decode_event(record.value, cfg.max_message_bytes)
            broker_time = record.timestamp / 1000.0 if record.timestamp and record.timestamp > 0 else None
            check_event_time(event.epoch, broker_time, cfg.max_past_seconds, cfg.max_future_seconds)
            return event
        return log_event_from_line(record.value, record.timestamp / 1000.0, raw.service, raw.host, raw.source,
                                   cfg.max_message_bytes)
