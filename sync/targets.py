"""Where a webhook may be sent: public addresses only, checked when a subscription is
made and again at every connection, and the connection made to the address checked.

A webhook URL is typed by an integration, so it could name the retailer's own
network: its database, an admin port, the cloud's metadata service. Its host is
resolved and every address it resolves to must be globally routable (``inside``):
no private, loopback, link-local, shared or reserved address, no multicast, and
none of the IPv6 forms that carry one of those inside them (IPv4-mapped
``::ffff:127.0.0.1``, IPv4-compatible ``::127.0.0.1``, NAT64 ``64:ff9b::7f00:1``)
or that are not routed on the internet (6to4 ``2002::/16``, Teredo, site-local
``fec0::/10``, local-use NAT64).

A name that was public when the subscription was made can point inside later (DNS
rebinding), so the sender resolves the host again before every POST and
``PinnedAddressAdapter`` connects to the address just checked, not to whatever a
second look-up would answer (a kept-alive connection is reused only while the name
still resolves to its address). TLS still checks the certificate against the URL's
host name, and the request carries it in ``Host``. No proxy from the environment is
used: through one, the address checked would not be the one connected to.
``WEBHOOK_ALLOW_PRIVATE_HOSTS`` lifts the check (tests, a receiver on this machine);
the connection is pinned all the same.
"""

import ipaddress
import logging
import socket
from ipaddress import IPv4Address, IPv6Address, ip_network

from django.conf import settings
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)
DEFAULT_PORTS = {"http": 80, "https": 443}
# IPv6 ranges refused whatever they carry: deprecated or not routed on the internet,
# and some stacks turn them into the IPv4 address inside them.
_REFUSED_IPV6 = [
    ip_network("::/96"),  # IPv4-compatible (RFC 4291, deprecated): ::127.0.0.1
    ip_network("::ffff:0:0:0/96"),  # IPv4-translated (RFC 2765)
    ip_network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
    ip_network("2001::/32"),  # Teredo
    ip_network("2002::/16"),  # 6to4 (RFC 3056, deprecated by RFC 7526)
    ip_network("fec0::/10"),  # site-local (deprecated by RFC 3879)
]
# The well-known NAT64 prefix (RFC 6052): a DNS64 resolver answers it for every
# IPv4-only host, so it is judged by the IPv4 address in its last 32 bits.
_NAT64 = ip_network("64:ff9b::/96")

Address = IPv4Address | IPv6Address


class TargetRefused(Exception):
    """The webhook's host cannot be sent to; the message says why, for the person
    reading the delivery's attempts."""


def inside(ip: Address) -> Address | None:
    """The address inside a private network that ``ip`` reaches (itself, or the
    IPv4 address it carries), or None when it is a public one."""
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return inside(ip.ipv4_mapped)
        if ip in _NAT64:
            return inside(IPv4Address(int(ip) & 0xFFFF_FFFF))
        if any(ip in refused for refused in _REFUSED_IPV6):
            return ip
    if ip.is_multicast or not ip.is_global:
        return ip
    return None


def webhook_address(host: str | None, port: int) -> str:
    """The address to connect to for ``host``: the first it resolves to, after every
    one has been checked (any inside refuses the host: a resolver may answer them
    in any order). Raises ``TargetRefused``."""
    if not host:
        raise TargetRefused("The URL has no host.")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(f"{host} cannot be found.") from None
    addresses = [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]
    if not addresses:
        raise TargetRefused(f"{host} cannot be found.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        for ip in addresses:
            reached = inside(ip)
            if reached is not None:
                # The address stays in the server's log: told to the caller, it
                # would map the retailer's own network one name at a time.
                which = "" if reached == ip else f", which reaches {reached}"
                log.warning("webhook host %s refused: %s%s", host, ip, which)
                raise TargetRefused(
                    f"{host} is not a public address: webhooks are sent to public "
                    "addresses only."
                )
    return str(addresses[0])


class PinnedAddressAdapter(HTTPAdapter):
    """requests' adapter, connecting to ``request.checked_address`` (set by the
    sender from ``webhook_address``) instead of resolving the URL's host again. The
    pool is keyed by that address and, for HTTPS, by the host name the certificate
    must match and that is sent as SNI; a request without a checked address is
    refused, never sent unchecked."""

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        address = getattr(request, "checked_address", None)
        if address is None:
            raise TargetRefused("The address was not checked before sending.")
        name = host_params["host"]
        host_params["host"] = address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs
