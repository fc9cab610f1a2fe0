from __future__ import annotations

from pathlib import Path

import pytest

from twin_core.settings import SettingsError, load_settings


def test_defaults_run_on_embedded_parts(tmp_path: Path) -> None:
    settings = load_settings({"TWIN_HOME": str(tmp_path)})
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'twin.db'}"
    assert settings.llm_model == "twin/local"
    assert settings.redis_url is None and settings.default_policy == "draft"
    assert settings.is_owner("console", "owner") and not settings.is_owner("console", "bob")


def test_home_defaults_to_dot_twin() -> None:
    assert load_settings({}).home == Path.home() / ".twin"


def test_environment_is_read_with_the_prefix() -> None:
    settings = load_settings(
        {
            "TWIN_DATABASE_URL": "postgresql://u:secret@db/twin",
            "TWIN_OWNER_HANDLES": '{"telegram": ["42"]}',
            "TWIN_CONTROL_CHAT": "telegram:42",
            "TWIN_CHANNELS": '["telegram"]',
        }
    )
    assert settings.sqlalchemy_url == "postgresql://u:secret@db/twin"
    assert settings.control_channel == "telegram" and settings.control_chat_id == "42"
    assert "secret" not in repr(settings)  # secrets are masked


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TWIN_AUTO_CONFIDENCE": "1.5"}, "TWIN_AUTO_CONFIDENCE: Input should be less than"),
        ({"TWIN_DEFAULT_POLICY": "always"}, "TWIN_DEFAULT_POLICY: Input should be 'off'"),
        ({"TWIN_CONTROL_CHAT": "telegram"}, "TWIN_CONTROL_CHAT: expected CHANNEL:CHAT_ID"),
        ({"TWIN_CONTROL_CHAT": "slack:C1"}, "names no owner identity there"),
        ({"TWIN_LLM_API_KEY": "changeme"}, "TWIN_LLM_API_KEY: is still a placeholder"),
        ({"TWIN_OWNER_HANDLES": "not json"}, "TWIN_OWNER_HANDLES"),
        ({"TWIN_TIMEZONE": "Mars/Olympus"}, "TWIN_TIMEZONE: .*IANA name such as"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_the_owners_time_zone_is_an_iana_name() -> None:
    assert load_settings({}).tz.key == "UTC"
    assert load_settings({"TWIN_TIMEZONE": "America/Los_Angeles"}).tz.key == "America/Los_Angeles"
