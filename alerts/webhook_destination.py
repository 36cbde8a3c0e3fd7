"""Where a webhook may go: resolve its host once, refuse addresses inside the network, pin them.

A subscription's URL is chosen by whoever holds a borough key, so the notifier must not become
a way into the network it runs in (the cloud metadata service, the database, the broker). The
host is resolved at delivery time and every address it resolves to must be a global unicast
address; the connection is then made to those addresses and no other, so a DNS answer that
changes between the check and the connection (rebinding) cannot send the request inside.

The exception hierarchy::

    ValueError
     └── RefusedDestinationError   the URL can never be delivered to: dead-letter at once
    OSError (socket.gaierror)      the name did not resolve now: retried like any failure
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 6052 §2.1: the well-known prefix a NAT64 gateway translates to the IPv4 address in the
# last 32 bits.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class RefusedDestinationError(ValueError):
    """A webhook URL this notifier will not deliver to; retrying cannot change that."""


@dataclass(frozen=True, slots=True)
class Destination:
    """A webhook endpoint with the addresses its host resolved to, checked and in order."""

    scheme: str
    host: str  # as in the URL (the Host header, TLS server name and certificate check)
    port: int
    target: str  # path and query
    addresses: tuple[str, ...]


def address_concern(address: IPAddress) -> str | None:
    """Why `address` is inside some network rather than on the internet, or None if it is not.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by that address.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_concern(embedded)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_private:
        return "private"
    if not address.is_global:
        # Shared (100.64.0.0/10), reserved and other special-purpose ranges.
        return "not globally routable"
    return None


def resolve_destination(url: str, *, allow_private: bool) -> Destination:
    """Parse `url`, resolve its host and check every address it resolves to.

    Raises RefusedDestinationError for a URL that can never be delivered to, and lets
    `socket.gaierror` (an OSError) through when the name does not resolve now.
    """
    try:
        parts = urlsplit(url)
    except ValueError as err:  # "Invalid IPv6 URL"
        raise RefusedDestinationError(f"not a URL: {err}") from err
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise RefusedDestinationError(f"{scheme or 'no'} scheme: only http and https are sent")
    if parts.username is not None or parts.password is not None:
        raise RefusedDestinationError("credentials in a webhook URL are not supported")
    host = parts.hostname
    if not host:
        raise RefusedDestinationError("the URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as err:
        raise RefusedDestinationError(f"bad port in the URL: {err}") from err
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"

    try:
        resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as err:  # a label the IDNA codec cannot encode: empty or too long
        raise RefusedDestinationError(f"{host} is not a valid host name") from err
    addresses = list(dict.fromkeys(str(info[4][0]) for info in resolved))
    if not allow_private:
        for text in addresses:
            concern = address_concern(ipaddress.ip_address(text.split("%", 1)[0]))
            if concern is not None:
                # One inside address is enough to refuse: which of them is used is not ours to
                # choose once a name mixes them.
                raise RefusedDestinationError(
                    f"{host} resolves to {text}, a {concern} address; webhooks go only to "
                    "internet addresses unless DAMP_NOTIFY_ALLOW_PRIVATE_WEBHOOKS is true"
                )
    return Destination(scheme, host, port, target, tuple(addresses))
