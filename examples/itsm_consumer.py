"""Example ITSM consumer: follow aiops' incidents and notifications topics and keep one ticket per incident.

Run: python examples/itsm_consumer.py --bootstrap localhost:9092 [--group my-itsm] [--from-beginning]

It joins its own consumer group (so it gets every record, independently of aiops' own groups), reads
`aiops.incidents` (full state, keyed by incident id, compacted) and `aiops.notifications` (delivery audit
trail, keyed by incident id), keeps the highest version per incident (dropping duplicates and stale
versions by `version`), and prints what a ticketing integration would do. It commits offsets only after
handling a record (at-least-once), so after a restart it may see records again: the version check makes
that harmless. Needs aiokafka (installed with aiops). Replace `apply_ticket` with your ITSM's API calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from typing import Any

from aiokafka import AIOKafkaConsumer  # noqa: TID251 (a standalone client program, not aiops code)

SUPPORTED_INCIDENT_SCHEMA = 1
SUPPORTED_NOTIFICATION_SCHEMA = 1
tickets: dict[str, dict[str, Any]] = {}  # incident id -> last applied state (use your ITSM/DB in real life)


def apply_ticket(incident: dict[str, Any]) -> None:
    known = tickets.get(incident["id"])
    if known is not None and known["version"] >= incident["version"]:
        return  # duplicate or stale (at-least-once delivery): already applied
    action = "create" if known is None else ("resolve" if incident["status"] == "resolved" else "update")
    tickets[incident["id"]] = incident
    print(f"{action:8} {incident['idempotency_key']:32} {incident['priority']} {incident['status']:9} "
          f"{incident['title']}", flush=True)


def note_delivery(record: dict[str, Any]) -> None:
    if record["outcome"] in {"dead_lettered", "rejected", "expired"}:
        print(f"ALERT    {record['receiver']} could not be notified of {record['idempotency_key']}: "
              f"{record['outcome']} after {record['attempt']} attempt(s): {record.get('error')}", flush=True)


async def main(bootstrap: str, group: str, incidents: str, notifications: str, from_beginning: bool) -> None:
    consumer = AIOKafkaConsumer(
        incidents, notifications, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    try:
        async for message in consumer:
            value = json.loads(message.value)
            if message.topic == incidents and value.get("schema_version", 1) <= SUPPORTED_INCIDENT_SCHEMA:
                apply_ticket(value)
            elif message.topic == notifications and value["schema_version"] <= SUPPORTED_NOTIFICATION_SCHEMA:
                note_delivery(value)
            await consumer.commit()
    finally:
        await consumer.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--group", default="itsm-example")
    parser.add_argument("--incidents-topic", default="aiops.incidents")
    parser.add_argument("--notifications-topic", default="aiops.notifications")
    parser.add_argument("--from-beginning", action="store_true")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.bootstrap, args.group, args.incidents_topic, args.notifications_topic,
                         args.from_beginning))
