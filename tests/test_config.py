from pathlib import Path

import pytest

from dailypapers.config import OPTIONS, ConfigError, Settings, load_settings


def test_defaults_then_environment_then_flags():
    assert load_settings(environ={}).port == 8000
    env = {"DAILYPAPERS_PORT": "9000", "DAILYPAPERS_DATA_DIR": "/srv/a"}
    assert load_settings(environ=env).port == 9000
    s = load_settings({"port": "9100"}, environ=env)
    assert s.port == 9100 and s.data_dir == Path("/srv/a")


def test_bad_values_name_the_setting():
    with pytest.raises(ConfigError, match="DAILYPAPERS_PORT"):
        load_settings(environ={"DAILYPAPERS_PORT": "eighty"})
    with pytest.raises(ConfigError, match="time zone"):
        load_settings(environ={"DAILYPAPERS_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(ConfigError, match="HH:MM"):
        load_settings(environ={"DAILYPAPERS_DAY_ROLLOVER": "25:00"})


def test_production_refuses_a_missing_secret():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(environ={"DAILYPAPERS_ENVIRONMENT": "production", "DAILYPAPERS_BASE_URL": "https://x.org"})
    s = load_settings(
        environ={
            "DAILYPAPERS_ENVIRONMENT": "production",
            "DAILYPAPERS_SECRET_KEY": "k" * 40,
            "DAILYPAPERS_BASE_URL": "https://x.org",
        }
    )
    assert s.signing_key() == "k" * 40


def test_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    assert load_settings(environ={"DAILYPAPERS_SECRET_KEY_FILE": str(secret)}).secret_key == "from-a-file"


def test_development_key_is_generated_once_and_kept(tmp_path):
    s = Settings(data_dir=tmp_path)
    key = s.signing_key()
    assert len(key) >= 32 and s.signing_key() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_every_option_is_a_settings_field_with_the_same_default():
    fields = set(Settings.__dataclass_fields__)
    for option in OPTIONS:
        assert option.name in fields
        assert getattr(Settings(), option.name) == option.default, option.name
    assert {o.name for o in OPTIONS} == fields


def test_settings_doc_matches_the_code():
    import runpy

    gen = runpy.run_path(str(Path(__file__).parent.parent / "scripts" / "gen_settings_doc.py"))
    doc = (Path(__file__).parent.parent / "docs" / "settings.md").read_text()
    assert doc == gen["render"](), "run python scripts/gen_settings_doc.py"


def test_base_url_defaults_to_where_serve_listens():
    import socket

    from dailypapers.config import base_url_mismatch

    assert Settings().public_url == "http://127.0.0.1:8000"
    assert load_settings({"port": "9123"}, environ={}).public_url == "http://127.0.0.1:9123"
    assert Settings(host="::1", port=81).public_url == "http://[::1]:81"
    # a wildcard address is no place for a link: the machine's host name stands in for it
    assert Settings(host="0.0.0.0").public_url == f"http://{socket.gethostname()}:8000"
    assert Settings(base_url="https://papers.example.org/").public_url == "https://papers.example.org"
    assert base_url_mismatch(Settings(port=9000)) is None
    assert base_url_mismatch(Settings(base_url="http://localhost:9000", port=9000)) is None
    warning = base_url_mismatch(Settings(base_url="http://127.0.0.1:8000", port=9000))
    assert warning and warning.startswith("warning:") and "\n" not in warning and "9000" in warning
    # production sits behind a proxy: a different address is expected there
    assert base_url_mismatch(Settings(environment="production", base_url="https://x.org", secret_key="k")) is None


def test_production_requires_an_https_base_url():
    env = {"DAILYPAPERS_ENVIRONMENT": "production", "DAILYPAPERS_SECRET_KEY": "k" * 40}
    with pytest.raises(ConfigError, match="DAILYPAPERS_BASE_URL"):
        load_settings(environ=env)
    with pytest.raises(ConfigError, match="https"):
        load_settings(environ={**env, "DAILYPAPERS_BASE_URL": "http://x.org"})
