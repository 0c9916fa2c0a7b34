"""Which addresses an outgoing webhook may reach: the SSRF guard.

A webhook URL is written by a user, so without a guard it could reach the cloud metadata service
(169.254.169.254), the database on localhost or anything else on the private network. The guard
resolves the host once and refuses loopback, private, link-local, unspecified, multicast, reserved
and other non-public addresses unless ``TOCSIN_WEBHOOK_ALLOWED_HOSTS`` names the host or an
enclosing network. The sender then connects to exactly the addresses checked here, so a DNS answer
that changes between check and connect (rebinding) cannot move the call elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from engine.errors import DeliveryFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> addresses as text, best first, as getaddrinfo orders them.
Resolver = Callable[[str, int], Sequence[str]]

ALLOW_SETTING = "TOCSIN_WEBHOOK_ALLOWED_HOSTS"

_PRIVATE = tuple(
    ipaddress.ip_network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
# NAT64 (RFC 6052): on a NAT64 network 64:ff9b::a00:5 reaches 10.0.0.5.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class AllowList:
    """Hosts (exact names, case-insensitive) and networks that webhooks may reach although not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: str | Iterable[str] | None) -> AllowList:
        """Read the setting: comma-separated names, addresses and CIDRs (``hooks.internal, 10.1.0.0/16, ::1``).

        A malformed CIDR raises ``ValueError`` at start rather than silently allowing nothing.
        """
        if entries is None:
            return cls()
        items = entries.split(",") if isinstance(entries, str) else list(entries)
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in items:
            entry = raw.strip().removeprefix("[").removesuffix("]")
            if not entry:
                continue
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError as exc:
                    raise ValueError(f"{ALLOW_SETTING}: {raw.strip()!r} is not a valid CIDR") from exc
                continue
            try:
                address = ipaddress.ip_address(entry)
            except ValueError:
                hosts.add(normalize_host(entry))
            else:
                networks.append(ipaddress.ip_network(address))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return normalize_host(host) in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


def normalize_host(host: str) -> str:
    """Lower-case ASCII (IDNA) form without a trailing dot, the form URLs put on the wire."""
    name = host.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def system_resolver(host: str, port: int) -> list[str]:
    """``getaddrinfo`` answers in its preference order, duplicates dropped."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def forbidden_reason(address: IPAddress) -> str | None:
    """Why ``address`` is no public destination (``"a private address"``), or None when it is one."""
    embedded = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    if embedded is not None:
        # ::ffff:127.0.0.1 and friends connect to the IPv4 address inside them.
        return forbidden_reason(embedded)
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if any(address.version == net.version and address in net for net in _PRIVATE):
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        # Shared (100.64/10), documentation, benchmarking and other special-purpose ranges.
        return "not a public address"
    return None


def checked_addresses(host: str, port: int, allow: AllowList, resolve: Resolver) -> list[IPAddress]:
    """Resolve ``host`` once and return its addresses if every one may be reached.

    One forbidden address refuses the host: a name that resolves to both a public and a private
    address is either misconfigured or an attack, and trying the public one first would make the
    outcome depend on answer order. Raises ``DeliveryFailed``: retryable when resolution fails
    (DNS outages pass), not retryable for a refusal (only a settings change helps).
    """
    literal = _literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            answers = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise DeliveryFailed(f"cannot resolve {host}: {exc}", retryable=True) from exc
        addresses = [ipaddress.ip_address(answer) for answer in answers]
    if not addresses:
        raise DeliveryFailed(f"cannot resolve {host}: no addresses", retryable=True)
    if allow.allows_host(host):
        return addresses
    for address in addresses:
        reason = forbidden_reason(address)
        if reason is None or allow.allows_address(address):
            continue
        where = f"{address} is {reason}" if literal else f"{host} resolves to {address}, {reason}"
        hint = "it" if literal else f"{host} or {address}"
        raise DeliveryFailed(f"refused: {where}; allow {hint} with {ALLOW_SETTING}", retryable=False)
    return addresses


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
