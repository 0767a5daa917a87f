"""One answer to "is this host loopback?" for every place that allows plain http there.

Only "localhost" and IP literals count (IPv6 in brackets too, and IPv4-mapped IPv6 loopback):
other names are never resolved, so a hostile DNS answer cannot make a remote host "local".
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))
