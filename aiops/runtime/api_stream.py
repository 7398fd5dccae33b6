"""``GET /api/v1/stream``: incident changes as server-sent events, fed from the incident store's change feed.

`ChangeFollower` polls the store's change feed (`IncidentStore.changes_after`: every version any projector
committed, numbered in commit order) every `poll_seconds` and at once when this process's projector committed
(`IncidentFeed.nudge`), so every API instance streams every incident, whichever worker owns its partition,
and a client that then reads the API sees the version. `IncidentFeed` broadcasts: every client has its own
bounded queue (`api.stream_queue_events`); one that far behind is cut off with a final ``dropped`` event.
`StreamRoute` serves it: ``retry:`` and ``: connected`` first, then ``event: incident`` / ``id: <incident
id>:<version>`` / ``data: <summary JSON>`` per version (`aiops.store.models.summary_of`), a ``: heartbeat``
every `api.stream_heartbeat_seconds`, ``event: end`` when the service stops. No replay: ``Last-Event-ID`` is
ignored (resync with ``GET /api/v1/incidents``); two projectors writing one version at once may repeat an
event (the id tells). At most `api.stream_max_clients` clients: one more is answered 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from aiops.errors import StoreUnavailableError
from aiops.incidents import Incident
from aiops.operator.auth import Principal
from aiops.runtime.api_auth import Answer, refuse
from aiops.store.models import IncidentSummary, summary_of
from aiops.store.protocol import IncidentStore

log = logging.getLogger("aiops.api")


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The last item of a subscription: why it ends (``end``: the service stops; ``dropped``: too slow)."""

    event: str
    reason: str


class Subscription:
    """One client's queue of summaries, ended by a `StreamEnd`."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[IncidentSummary | StreamEnd] = asyncio.Queue(size + 1)  # + room for the end
        self.size = size
        self.ended = False

    def offer(self, summary: IncidentSummary) -> bool:
        """Queue `summary`; False (and the subscription ended with ``dropped``) when the client is too slow."""
        if self.queue.qsize() >= self.size:
            self.end(StreamEnd("dropped", f"more than {self.size} events behind; reconnect and resync"))
            return False
        self.queue.put_nowait(summary)
        return True

    def end(self, final: StreamEnd) -> None:
        if self.ended:
            return
        self.ended = True
        while not self.queue.empty():  # what is queued is lost anyway: the client must resync
            self.queue.get_nowait()
        self.queue.put_nowait(final)


class IncidentFeed:
    """In-process broadcaster of projected incident versions (see the module docstring)."""

    def __init__(self, queue_events: int = 1000) -> None:
        self.queue_events = queue_events
        self._subscribers: set[Subscription] = set()
        self._closed = False
        self.committed = asyncio.Event()
        """Set by `nudge`: this process's projector committed something; the follower polls now."""

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> Subscription:
        subscription = Subscription(self.queue_events)
        if self._closed:
            subscription.end(StreamEnd("end", "the service is stopping"))
        else:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def nudge(self, _versions: Sequence[Incident] = ()) -> None:
        """The projector's hook after each commit: wake the `ChangeFollower` (it reads what to send)."""
        self.committed.set()

    def publish(self, versions: Sequence[Incident]) -> None:
        """Offer each distinct (id, version) of a committed batch to every client, oldest version first."""
        if not self._subscribers:
            return
        unique = {(incident.id, incident.version): incident for incident in versions}
        self.broadcast([unique[key] for key in sorted(unique, key=lambda key: (key[1], key[0]))])

    def broadcast(self, versions: Sequence[Incident]) -> None:
        """Offer each version, in the order given, to every client."""
        if not self._subscribers:
            return
        summaries = [summary_of(incident) for incident in versions]
        for subscription in list(self._subscribers):
            for summary in summaries:
                if not subscription.offer(summary):
                    self._subscribers.discard(subscription)
                    log.warning("stream: a client fell %d events behind and was dropped", self.queue_events)
                    break

    def close(self) -> None:
        """End every subscription (the service stops); later subscriptions end at once."""
        self._closed = True
        for subscription in self._subscribers:
            subscription.end(StreamEnd("end", "the service is stopping"))
        self._subscribers.clear()


class ChangeFollower:
    """Polls the store's change feed into an `IncidentFeed` from the newest change at `start`."""

    def __init__(self, store: IncidentStore, feed: IncidentFeed, poll_seconds: float = 0.5, page: int = 500) -> None:
        self.store = store
        self.feed = feed
        self.poll_seconds = poll_seconds
        self.page = page
        self.after: int | None = None
        """The last change sent (None: not known yet, the first poll starts at the newest)."""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        with contextlib.suppress(StoreUnavailableError, SQLAlchemyError, OSError):  # else at the first poll
            self.after = await self.store.last_change()
        self._task = asyncio.create_task(self._follow(), name="aiops-stream-changes")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def poll(self) -> int:
        """Send the changes committed since the last poll; how many there were."""
        if self.after is None:
            self.after = await self.store.last_change()
            return 0
        changes = await self.store.changes_after(self.after, self.page)
        if changes:
            self.after = changes[-1][0]
            self.feed.broadcast([incident for _, incident in changes])  # commit order
        return len(changes)

    async def _follow(self) -> None:
        while True:
            self.feed.committed.clear()
            try:
                if await self.poll() >= self.page:
                    continue  # more waiting
            except (StoreUnavailableError, SQLAlchemyError, OSError) as error:
                log.warning("stream: the store's change feed cannot be read: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.feed.committed.wait(), self.poll_seconds)


def incident_event(summary: IncidentSummary) -> bytes:
    return (f"event: incident\nid: {summary.id}:{summary.version}\ndata: ".encode()
            + orjson.dumps(summary.model_dump(mode="json")) + b"\n\n")


def end_event(final: StreamEnd) -> bytes:
    return f"event: {final.event}\ndata: ".encode() + orjson.dumps({"reason": final.reason}) + b"\n\n"


class StreamRoute:
    """The SSE handler over an `IncidentFeed` (behind the `Gate`: role viewer)."""

    def __init__(self, feed: IncidentFeed, heartbeat_seconds: float, *, max_clients: int = 100,
                 retry_after_seconds: float = 5.0) -> None:
        self.feed = feed
        self.heartbeat_seconds = heartbeat_seconds
        self.max_clients = max_clients
        self.retry_after = retry_after_seconds

    async def stream(self, request: web.Request, principal: Principal) -> Answer:
        if self.feed.subscribers >= self.max_clients:  # checked and subscribed with no await in between
            raise refuse("unavailable", f"{self.max_clients} clients are following the stream already "
                         "(api.stream_max_clients)", request, self.retry_after)
        subscription = self.feed.subscribe()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        try:
            await response.prepare(request)
            await response.write(b"retry: 3000\n: connected\n\n")
            await self._pump(subscription, response)
        except ConnectionError:  # the client left (aiohttp's ClientConnectionResetError is one)
            log.debug("stream: client %s left", request.remote)
        finally:
            self.feed.unsubscribe(subscription)
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return Answer(response)

    async def _pump(self, subscription: Subscription, response: web.StreamResponse) -> None:
        while True:
            try:
                item = await asyncio.wait_for(subscription.queue.get(), self.heartbeat_seconds)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            if isinstance(item, StreamEnd):
                await response.write(end_event(item))
                return
            await response.write(incident_event(item))
