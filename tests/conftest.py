"""Shared fixtures: every async test runs on asyncio and on trio; real services are required in CI."""

from __future__ import annotations

import os
import socket

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each `@pytest.mark.anyio` test once per backend."""
    return str(request.param)


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (in CI, `CI=true`) when a real service does not answer on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return
    except OSError as exc:
        reason = f"{name} is not reachable on {host}:{port} ({exc}); start it to run this test"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI requires {reason}", pytrace=False)
        pytest.skip(reason)
