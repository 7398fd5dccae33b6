"""Silences over HTTP: /api/v1/silences and Alertmanager's /api/v2/silences, on the silences topic.

`LiveSilences` reads the silences topic (the one ``aiops silence`` and the correlation worker use) to its
end at start, then follows it, and writes through one ``acks=all`` producer (`send_silence`: the silence,
then its partition's marker); a write is applied to the view once acknowledged, so a client reads its own
writes. `SilenceRoutes` serves v1 (aiops's shape, problem details) and the Alertmanager v2 facade
(postableSilence in, gettableSilence out) over it, each route behind the `Gate`: reading needs a viewer,
creating or expiring a responder. A write the broker does not acknowledge in time is answered 503 with
Retry-After. Deleting expires (the history stays on the topic, as with ``aiops silence expire``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from aiops.correlation.suppression.rules import Silence
from aiops.errors import BrokerUnavailableError
from aiops.operator.auth import Principal
from aiops.operator.requests import SilenceRequest, SilenceView, build_silence
from aiops.operator.silences import (
    PostableSilence,
    gettable_silence,
    matches_filter,
    parse_filter,
    silence_from_postable,
)
from aiops.runtime.api_auth import Answer, Dialect, Gate, read_body, refuse
from aiops.runtime.silences import (
    SilenceLog,
    apply_silence_records,
    open_silences_reader,
    read_silences_to_end,
    send_silence,
)

log = logging.getLogger("aiops.api")
STATES = ("pending", "active", "expired")
Built = TypeVar("Built")


class LiveSilences:
    """The silences topic as a live view, plus its writer (see the module docstring)."""

    def __init__(self, bootstrap: str, topic: str, *, client_id: str, request_timeout_ms: int,
                 ack_seconds: float) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.ack_seconds = ack_seconds
        self._client_id = client_id
        self._request_timeout_ms = request_timeout_ms
        self.view = SilenceLog()
        self._producer: AIOKafkaProducer | None = None
        self._reader: tuple[AIOKafkaConsumer, list[TopicPartition]] | None = None
        self._follower: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._reader = await open_silences_reader(self.bootstrap, self.topic, self._request_timeout_ms)
        await read_silences_to_end(*self._reader, self.view, self._request_timeout_ms / 1000)
        self._follower = asyncio.create_task(self._follow(*self._reader), name="aiops-api-silences")
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", client_id=self._client_id,
                                          request_timeout_ms=self._request_timeout_ms)
        await self._producer.start()

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self._reader is not None:
            await self._reader[0].stop()
        if self._producer is not None:
            await self._producer.stop()

    async def _follow(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        while True:
            try:
                apply_silence_records((await consumer.getmany(*partitions, timeout_ms=1000)).values(), self.view)
            except KafkaError as error:
                log.warning("following %s: %r; retrying", self.topic, error)
                await asyncio.sleep(1.0)

    def updated_at(self, silence: Silence) -> datetime:
        at = self.view.updated_at(silence.id)
        return datetime.fromtimestamp(at, UTC) if at is not None else silence.created_at

    async def put(self, silence: Silence) -> None:
        """Write `silence`; `BrokerUnavailableError` when it is not acknowledged within `ack_seconds`."""
        if self._producer is None:
            raise BrokerUnavailableError("the silences writer is not started")
        try:
            async with asyncio.timeout(self.ack_seconds):
                sent = await send_silence(self._producer, self.topic, silence)
        except (TimeoutError, KafkaError) as error:
            raise BrokerUnavailableError(f"the broker did not acknowledge the silence: {type(error).__name__}") \
                from None
        self.view.apply(silence.id.encode(), silence.model_dump_json().encode(), sent.offset, sent.timestamp)


class SilenceRoutes:
    """The v1 and Alertmanager v2 silence routes over a `LiveSilences`."""

    def __init__(self, live: LiveSilences, gate: Gate, wall: Callable[[], datetime],
                 retry_after_seconds: float) -> None:
        self.live = live
        self.gate = gate
        self._wall = wall
        self._retry_after = retry_after_seconds

    def install(self, app: web.Application) -> None:
        guard = self.gate.guard
        app.router.add_get("/api/v1/silences", guard("read", "v1", self._list_v1))
        app.router.add_post("/api/v1/silences", guard("act", "v1", self._create_v1))
        app.router.add_get("/api/v1/silences/{id}", guard("read", "v1", self._get_v1))
        app.router.add_delete("/api/v1/silences/{id}", guard("act", "v1", self._expire_v1))
        app.router.add_get("/api/v2/silences", guard("read", "alertmanager", self._list_v2))
        app.router.add_post("/api/v2/silences", guard("act", "alertmanager", self._post_v2))
        app.router.add_get("/api/v2/silence/{id}", guard("read", "alertmanager", self._get_v2))
        app.router.add_delete("/api/v2/silence/{id}", guard("act", "alertmanager", self._expire_v2))

    def _view(self, silence: Silence, now: datetime) -> dict[str, object]:
        return SilenceView.of(silence, self.live.updated_at(silence), now).model_dump(mode="json")

    def _known(self, request: web.Request) -> Silence:
        silence = self.live.view.get(request.match_info["id"])
        if silence is None:
            raise refuse("not-found", f"no silence {request.match_info['id']!r}", request)
        return silence

    async def write(self, request: web.Request, silence: Silence) -> None:
        try:
            await self.live.put(silence)
        except BrokerUnavailableError as error:
            log.warning("%s %s: %s; answered 503", request.method, request.path, error)
            raise refuse("unavailable", str(error), request, self._retry_after) from None

    async def expire(self, request: web.Request) -> Silence:
        now = self._wall()
        current = self._known(request)
        expired = current.expired(now)
        if expired != current:
            await self.write(request, expired)
        return expired

    async def _list_v1(self, request: web.Request, principal: Principal) -> Answer:
        wanted = {state.strip() for state in request.query.get("state", "active,pending").split(",")}
        if not wanted <= set(STATES):
            raise refuse("bad-request", f"state: one or more of {', '.join(STATES)}", request)
        now = self._wall()
        listed = [self._view(s, now) for s in self.live.view.silences() if s.state(now.timestamp()) in wanted]
        return Answer(web.json_response(listed))

    async def _create_v1(self, request: web.Request, principal: Principal) -> Answer:
        body = await read_body(request, SilenceRequest)
        silence = _valid(request, "v1", lambda: build_silence(
            body, silence_id=str(uuid.uuid4()), actor=principal.name, now=self._wall()))
        await self.write(request, silence)
        return Answer(web.json_response(self._view(silence, self._wall()), status=201), made=silence.id)

    async def _get_v1(self, request: web.Request, principal: Principal) -> Answer:
        return Answer(web.json_response(self._view(self._known(request), self._wall())))

    async def _expire_v1(self, request: web.Request, principal: Principal) -> Answer:
        expired = await self.expire(request)
        return Answer(web.json_response(self._view(expired, self._wall())), made=expired.id)

    async def _list_v2(self, request: web.Request, principal: Principal) -> Answer:
        filters = _valid(request, "alertmanager", lambda: parse_filter(request.query.getall("filter", [])))
        now = self._wall()
        listed = [gettable_silence(s, self.live.updated_at(s), now) for s in self.live.view.silences()
                  if matches_filter(s, filters)]
        return Answer(web.json_response(listed))

    async def _post_v2(self, request: web.Request, principal: Principal) -> Answer:
        posted = await read_body(request, PostableSilence)
        existing = self.live.view.get(posted.id) if posted.id else None
        if posted.id and existing is None:
            raise refuse("not-found", f"silence {posted.id} not found", request)
        silence = _valid(request, "alertmanager", lambda: silence_from_postable(
            posted, silence_id=posted.id or str(uuid.uuid4()), now=self._wall(),
            created_at=existing.created_at if existing else None))
        await self.write(request, silence)
        return Answer(web.Response(body=orjson.dumps({"silenceID": silence.id}), content_type="application/json"),
                      made=silence.id)

    async def _get_v2(self, request: web.Request, principal: Principal) -> Answer:
        silence = self._known(request)
        return Answer(web.json_response(gettable_silence(silence, self.live.updated_at(silence), self._wall())))

    async def _expire_v2(self, request: web.Request, principal: Principal) -> Answer:
        expired = await self.expire(request)
        return Answer(web.Response(status=200), made=expired.id)


def _valid(request: web.Request, dialect: Dialect, build: Callable[[], Built]) -> Built:
    """`build()`, its `ValueError` (pydantic's included) answered 422 (v1) or 400 (Alertmanager)."""
    try:
        return build()
    except ValueError as error:
        raise refuse("validation" if dialect == "v1" else "bad-request", str(error), request) from None
