from datetime import timedelta

import pytest

from kernel.settings import SettingsError, load_settings, parse_duration, parse_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("250ms", timedelta(milliseconds=250)),
        ("45", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations_accept_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "7 days", "-1d", "1.5h"])
def test_bad_durations_name_the_setting(text: str) -> None:
    with pytest.raises(SettingsError, match="LIVECOMMERCE_SHIP_BY"):
        load_settings({"LIVECOMMERCE_SHIP_BY": text, "LIVECOMMERCE_SECRET_KEY": "x" * 40})


def test_defaults_are_the_embedded_shape(tmp_path) -> None:
    settings = load_settings({"LIVECOMMERCE_DATA_DIR": str(tmp_path)})
    assert settings.db.url == f"sqlite+aiosqlite:///{tmp_path}/livecommerce.db"
    assert settings.redis_url is None
    assert settings.shop.ship_by == timedelta(days=7)
    assert settings.shop.auto_confirm_after == timedelta(days=30)
    assert settings.shop.dispute_window == timedelta(days=15)
    assert settings.shop.sweep_interval == timedelta(seconds=30)
    assert settings.auth.cookie_secure is False


def test_generated_secret_is_kept_in_the_data_folder(tmp_path) -> None:
    first = load_settings({"LIVECOMMERCE_DATA_DIR": str(tmp_path)}).auth.secret_key
    second = load_settings({"LIVECOMMERCE_DATA_DIR": str(tmp_path)}).auth.secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_https_public_url_makes_cookies_secure(tmp_path) -> None:
    settings = load_settings(
        {"LIVECOMMERCE_DATA_DIR": str(tmp_path), "LIVECOMMERCE_PUBLIC_URL": "https://shop.example"}
    )
    assert settings.auth.cookie_secure is True


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"LIVECOMMERCE_SECRET_KEY": "short"}, "LIVECOMMERCE_SECRET_KEY"),
        ({"LIVECOMMERCE_LOGIN_RATE": "lots"}, "LIVECOMMERCE_LOGIN_RATE"),
        ({"LIVECOMMERCE_MAX_BODY_BYTES": "big"}, "LIVECOMMERCE_MAX_BODY_BYTES"),
    ],
)
def test_malformed_settings_fail_loudly_naming_the_variable(tmp_path, env: dict, name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({"LIVECOMMERCE_DATA_DIR": str(tmp_path), **env})


def test_rates_parse() -> None:
    assert parse_rate("10/minute") == (10, "minute")
    with pytest.raises(SettingsError):
        parse_rate("0/minute")
