"""The client's address, as the password throttles and lockouts count it.

X-Forwarded-For is written by the client as much as by proxies, so it is believed only as far as it was
written by a proxy named in TRUSTED_PROXIES: reading from the right, each hop a trusted proxy appended is
skipped, and the first address not of a trusted proxy is the client. A request that does not come from a
trusted proxy is its connection's own address, whatever its headers say.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not _trusted(_address(remote), networks):
        return remote
    client = remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Not an address: written by the client, so the last proxy's peer is all that is known.
            return client
        client = str(address)
        if not _trusted(address, networks):
            return client
    return client
