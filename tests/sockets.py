"""What listens where, from Linux's socket tables (/proc/net/tcp and tcp6): tests that a server
binds the loopback only read the kernel's view, not the server's word."""

from __future__ import annotations

from pathlib import Path

__all__ = ["is_loopback", "listening"]

_V6_LOOPBACK = "0000:0000:0000:0000:0000:0000:0000:0001"
_V4_MAPPED_LOOPBACK = "0000:" * 5 + "ffff:7f"  # ::ffff:127.x


def listening() -> dict[int, set[str]]:
    """Port -> the local addresses something listens on (IPv6 in eight full groups)."""
    found: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            ip_hex, port_hex = fields[1].split(":")
            raw = bytes.fromhex(ip_hex)
            if len(raw) == 4:
                ip = ".".join(str(b) for b in raw[::-1])
            else:  # four 32-bit words, each in host (little-endian) order
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                ip = ":".join(words[i : i + 2].hex() for i in range(0, 16, 2))
            found.setdefault(int(port_hex, 16), set()).add(ip)
    return found


def is_loopback(ip: str) -> bool:
    """127.x, ::1 or ::ffff:127.x (as :func:`listening` spells them)."""
    return ip.startswith("127.") or ip == _V6_LOOPBACK or ip.startswith(_V4_MAPPED_LOOPBACK)
