"""The autouse `no_outbound_network` fixture keeps tests on the loopback interface."""

from __future__ import annotations

import socket
import time

import pytest


def test_connecting_to_a_non_loopback_address_is_refused_immediately() -> None:
    # Never let this test send a packet if the guard were somehow missing.
    assert getattr(socket.socket.connect, "network_guard", False), "network guard not installed"
    assert getattr(socket.socket.connect_ex, "network_guard", False), "network guard not installed"

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        started = time.monotonic()
        with pytest.raises(ConnectionRefusedError, match="outbound network disabled in tests"):
            sock.connect(("10.255.255.1", 80))
        with pytest.raises(ConnectionRefusedError, match="outbound network disabled in tests"):
            sock.connect_ex(("10.255.255.1", 80))

    assert time.monotonic() - started < 0.5


def test_create_connection_to_a_non_loopback_address_is_refused() -> None:
    assert getattr(socket.socket.connect, "network_guard", False), "network guard not installed"

    with pytest.raises(ConnectionRefusedError, match="outbound network disabled in tests"):
        socket.create_connection(("10.255.255.1", 443), timeout=5)


def test_connecting_to_a_listening_loopback_socket_works() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"ping")
                assert peer.recv(4) == b"ping"
