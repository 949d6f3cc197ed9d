"""Client addresses behind trusted proxies, and network allow-lists (CIDRs)."""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    """Parse CIDRs (a bare address is a /32 or /128); raises ValueError naming a bad one."""
    parsed = []
    for cidr in cidrs:
        try:
            parsed.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{cidr!r} is not a network (CIDR)") from exc
    return tuple(parsed)


def address_in(address: str | None, cidrs: Iterable[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks(tuple(cidrs)))


def client_address(request, trusted_proxies: Iterable[str]) -> str | None:
    """The address the request came from. When the peer is a trusted proxy, the right-most
    address of X-Forwarded-For that is not itself a trusted proxy (the left part of the header
    is whatever the client claimed, so it is never believed)."""
    peer = request.META.get("REMOTE_ADDR") or None
    trusted = tuple(trusted_proxies)
    if not trusted or not address_in(peer, trusted):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not address_in(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: fall back to the proxy itself
    return peer
