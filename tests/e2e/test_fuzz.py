"""Schemathesis sends generated requests to every operation in the OpenAPI document of a running server:
none may answer with a server error. It runs as the demo admin, so requests get past the guards."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


def test_no_generated_request_gets_a_server_error(live_server: str) -> None:
    binary = Path(sys.executable).with_name("schemathesis")
    if not binary.exists() and shutil.which("schemathesis") is None:
        pytest.fail("schemathesis is not installed: pip install -e '.[dev]'")
    login = httpx.post(
        f"{live_server}/api/auth/login", json={"email": "admin@demo.livecommerce.test", "password": "livecommerce-demo"}
    )
    token = login.json()["token"]
    result = subprocess.run(
        [
            str(binary),
            "run",
            f"{live_server}/schema/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "12",
            "--seed",
            "20261121",
            "--workers",
            "1",
            "--generation-deterministic",
            "-H",
            f"Authorization: Bearer {token}",
            "-H",
            "Idempotency-Key: fuzz-key-00000001",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
