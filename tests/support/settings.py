from __future__ import annotations

import os
from pathlib import Path

from twin_core.settings import Settings, load_settings

POSTGRES_URL = os.environ.get(
    "TWIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TWIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


def make_settings(home: Path, **overrides: object) -> Settings:
    """Settings for a test Twin on a fake channel, the owner `owner` in chat `control`,
    with nothing from the machine's environment."""
    values: dict[str, object] = {
        "home": home,
        "owner_name": "Sam",
        "control_chat": "fake:control",
        "owner_handles": {"fake": ["owner"]},
        "auto_send_delay_s": 0.0,
        "undo_window_s": 0.0,
        "burst_window_s": 0.0,
        "index_gather_s": 0.0,
        "job_poll_s": 0.2,
        "channels": [],
        **overrides,
    }
    return load_settings({}, **values)
