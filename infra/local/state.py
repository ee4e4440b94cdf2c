"""Where `make dev` keeps its state (DEV_STATE_DIR, by default .dev/) and says where it
listens, so that `make token`, another process, finds it on whatever port it was given."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_STATE_DIR",
    "HOST",
    "announce",
    "dev_url",
    "state_dir",
    "withdraw",
]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = ROOT / ".dev"
HOST = "127.0.0.1"
DEFAULT_PORT = 8787
_URL_FILE = "url"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """DEV_STATE_DIR, or .dev/ at the repository's root."""
    env = os.environ if env is None else env
    return Path(env.get("DEV_STATE_DIR") or DEFAULT_STATE_DIR)


def announce(url: str, env: Mapping[str, str] | None = None) -> None:
    """Record that `make dev` serves on ``url``."""
    directory = state_dir(env)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / _URL_FILE).write_text(url + "\n")


def withdraw(url: str, env: Mapping[str, str] | None = None) -> None:
    """Forget ``url`` when `make dev` stops (unless another run has announced since)."""
    path = state_dir(env) / _URL_FILE
    try:
        if path.read_text().strip() == url:
            path.unlink()
    except FileNotFoundError:
        pass


def dev_url(env: Mapping[str, str] | None = None) -> str:
    """Where `make dev` listens: PORT when set, else what the running `make dev` announced,
    else the default port."""
    env = os.environ if env is None else env
    if env.get("PORT"):
        return f"http://{HOST}:{env['PORT']}"
    try:
        announced = (state_dir(env) / _URL_FILE).read_text().strip()
    except FileNotFoundError:
        announced = ""
    return announced or f"http://{HOST}:{DEFAULT_PORT}"
