"""`GuardedResolver`: the aiohttp resolver every receiver connects through; it checks what it returns.

aiohttp connects to exactly the addresses its resolver returns, so checking them here closes the gap a DNS
rebinding would use (a name that resolved to a public address when checked and to 127.0.0.1 when
connected): there is no second lookup. A numeric host aiohttp does not take for an address
(``0x7f000001``) is read by `aiops.sinks.destinations.parse_host` and answered without DNS. If *any*
answer of a name is refused the whole lookup is (`DestinationRefusedError`, permanent), rather than
quietly dropping it: a name that points inside the network is a misconfiguration or an attack either way.
Host literals aiohttp connects to without a lookup are checked before the request (`aiops.sinks.http`).
"""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, ip_address

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from aiops.sinks.destinations import DestinationPolicy, DestinationRefusedError, IPAddress, parse_host


class GuardedResolver(AbstractResolver):
    """Resolve through `inner` (default: the system resolver in a thread) and refuse forbidden answers."""

    def __init__(self, policy: DestinationPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner
        self._owned = inner is None

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        try:
            parsed = parse_host(host)
        except ValueError as error:
            raise DestinationRefusedError(str(error)) from None
        if not isinstance(parsed, str):
            self._check(host, parsed)
            kind = socket.AF_INET if isinstance(parsed, IPv4Address) else socket.AF_INET6
            return [ResolveResult(hostname=host, host=str(parsed), port=port, family=kind, proto=0, flags=0)]
        if self._inner is None:
            self._inner = ThreadedResolver()
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            try:
                address = ip_address(answer["host"].split("%", 1)[0])
            except ValueError:
                raise DestinationRefusedError(f"{host} resolved to an unreadable address") from None
            self._check(host, address)
        return answers

    def _check(self, host: str, address: IPAddress) -> None:
        refusal = self.policy.address_refusal(address)
        if refusal is not None:
            raise DestinationRefusedError(f"{host} resolves to {refusal}")

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()
        if self._owned:
            self._inner = None
