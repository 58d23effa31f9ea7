"""A real temporary git repository holding a catalog, for checker tests (no mocks)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": os.environ.get("HOME", "/tmp"),
}

BASE: dict[str, Any] = {
    "catalog": "shop",
    "contexts": {"orders": {}, "billing": {}, "email": {}},
    "defaults": {"compatibility": "BACKWARD"},
    "events": {
        "orderPlaced": {
            "producers": ["orders"],
            "consumers": ["billing", "email"],
            "payload": {
                "type": "object",
                "required": ["orderId", "status"],
                "properties": {
                    "orderId": {"type": "string"},
                    "status": {"type": "string", "enum": ["new", "paid", "shipped"]},
                    "note": {"type": "string"},
                },
            },
        },
        "orderPaid": {
            "producers": ["billing"],
            "consumers": ["orders"],
            "payload": {"type": "object", "required": ["orderId"],
                        "properties": {"orderId": {"type": "string"}}},
        },
    },
    "commands": {
        "sendReceipt": {
            "handler": "email",
            "producers": ["billing"],
            "payload": {"type": "object", "required": ["orderId"],
                        "properties": {"orderId": {"type": "string"}}},
        },
    },
}


def base() -> dict[str, Any]:
    """A fresh deep copy of the clean example catalog."""
    return copy.deepcopy(BASE)


class Repo:
    """A git work tree in `root` with the catalog under `schemas/`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "schemas").mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        result = subprocess.run(["git", *args], cwd=self.root, env=GIT_ENV, capture_output=True,
                                text=True, check=True)
        return result.stdout.strip()

    def write(self, catalog: dict[str, Any], name: str = "shop.yaml") -> None:
        (self.root / "schemas" / name).write_text(yaml.safe_dump(catalog, sort_keys=False))

    def commit(self, catalog: dict[str, Any] | None = None, message: str = "change") -> str:
        if catalog is not None:
            self.write(catalog)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def tidings(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tidings", *args], cwd=self.root,
                              env={**GIT_ENV, **(env or {})}, capture_output=True, text=True,
                              check=False)
