"""Reading settings from the environment: shared by config/settings.py and the
setting groups kept in modules of their own."""

import os

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in TRUE_WORDS


def env_list(name: str, default: str) -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]
