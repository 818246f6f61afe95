"""Whether a local port is free to listen on, and a free one: `trackwell server` refuses a taken
port before it touches its database, `trackwell demo` moves to a free one."""

from __future__ import annotations

import socket


def _socket(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: a TIME_WAIT port is free
    return s


def port_free(host: str, port: int) -> bool:
    with _socket(host) as s:
        try:
            s.bind((host.strip("[]"), port))
        except OSError:
            return False
        return True


def free_port(host: str) -> int:
    with _socket(host) as s:
        s.bind((host.strip("[]"), 0))
        return int(s.getsockname()[1])


def client_url(host: str, port: int) -> str:
    """The URL a client on this machine uses for a server listening on ``host``."""
    if host in ("0.0.0.0", "::", "[::]", ""):
        host = "127.0.0.1"
    return f"http://{'[' + host + ']' if ':' in host and not host.startswith('[') else host}:{port}"
