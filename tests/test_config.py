import os
import re
from pathlib import Path

import pytest

from intercarga.config import LogFormat, load_settings
from intercarga.errors import ConfigurationError


def test_defaults_need_no_configuration(clean_environment: Path) -> None:
    settings = load_settings()
    assert settings.http_port == 8000
    assert settings.ocpp_port == 9000
    assert settings.database_url.get_secret_value() == "sqlite+aiosqlite:///./intercarga.db"
    assert settings.log_format is LogFormat.TEXT


def test_environment_overrides_the_file(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / "intercarga.toml").write_text('http_port = 8100\nlog_format = "json"\n')
    monkeypatch.setenv("INTERCARGA_HTTP_PORT", "8200")
    settings = load_settings()
    assert settings.http_port == 8200
    assert settings.log_format is LogFormat.JSON


def test_config_file_from_environment_variable(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = clean_environment / "elsewhere.toml"
    path.write_text("ocpp_port = 9100\n")
    monkeypatch.setenv("INTERCARGA_CONFIG", str(path))
    assert load_settings().ocpp_port == 9100


def test_bad_value_names_the_key_and_the_file(clean_environment: Path) -> None:
    path = clean_environment / "intercarga.toml"
    path.write_text('http_port = "eighty"\n')
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "intercarga.toml: http_port:" in message
    assert "'eighty'" in message
    assert "\n" not in message


def test_bad_environment_value_names_the_variable(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERCARGA_OCPP_PORT", "70000")
    with pytest.raises(
        ConfigurationError, match=r"^INTERCARGA_OCPP_PORT: ocpp_port: Input should be less than"
    ):
        load_settings()


def test_unknown_key_and_unsupported_database(clean_environment: Path) -> None:
    path = clean_environment / "intercarga.toml"
    path.write_text("htp_port = 1\n")
    with pytest.raises(ConfigurationError, match="htp_port: unknown setting"):
        load_settings(path)
    path.write_text('database_url = "mysql://root:pw@localhost/x"\n')
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert "database_url: Value error, must start with sqlite+aiosqlite://" in str(caught.value)
    assert "pw" not in str(caught.value)


def test_malformed_toml_and_missing_file(clean_environment: Path) -> None:
    path = clean_environment / "intercarga.toml"
    path.write_text("http_port = \n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_settings(path)
    with pytest.raises(ConfigurationError, match=r"cannot read missing\.toml"):
        load_settings(Path("missing.toml"))


def test_masked_configuration_hides_secrets(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "INTERCARGA_DATABASE_URL", "postgresql+asyncpg://ic:s3cret@db.example:5432/ic"
    )
    monkeypatch.setenv("INTERCARGA_ADMIN_TOKEN", "very-secret-token")
    shown = load_settings().masked()
    assert shown["database_url"] == "postgresql+asyncpg://ic:********@db.example:5432/ic"
    assert shown["admin_token"] == "********"
    assert "s3cret" not in str(shown)
    assert "very-secret-token" not in str(shown)


def test_nested_environment_overrides_one_key_of_a_file_table(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / "intercarga.toml").write_text(
        "[ocpp]\nping_interval = 10\nmax_frame_size = 4096\n"
    )
    monkeypatch.setenv("INTERCARGA_OCPP__PING_INTERVAL", "5")
    settings = load_settings()
    assert settings.ocpp.ping_interval == 5
    assert settings.ocpp.max_frame_size == 4096
    monkeypatch.setenv("INTERCARGA_OCPP__MAX_FRAME_SIZE", "12")
    with pytest.raises(
        ConfigurationError, match=r"^INTERCARGA_OCPP__MAX_FRAME_SIZE: ocpp.max_frame_size: "
    ):
        load_settings()


def test_a_single_node_unless_nats_is_configured(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    assert settings.cluster.nats_url is None
    # The default node id is this host and this process, usable as a NATS subject token.
    assert settings.cluster.node_id.endswith(f"-{os.getpid()}")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", settings.cluster.node_id)
    (clean_environment / "intercarga.toml").write_text(
        '[cluster]\nnats_url = "nats://ic:n4ts-secret@127.0.0.1:4222"\nnode_id = "a-1"\n'
    )
    settings = load_settings()
    assert settings.cluster.nats_url == "nats://ic:n4ts-secret@127.0.0.1:4222"
    assert settings.cluster.node_id == "a-1"
    shown = settings.masked()
    assert shown["cluster"]["nats_url"] == "nats://ic:********@127.0.0.1:4222"
    assert "n4ts-secret" not in str(shown)
    monkeypatch.setenv("INTERCARGA_CLUSTER__NODE_ID", "b.2")
    with pytest.raises(ConfigurationError, match=r"^INTERCARGA_CLUSTER__NODE_ID: cluster.node_id"):
        load_settings()
    monkeypatch.setenv("INTERCARGA_CLUSTER__NODE_ID", "b-2")
    monkeypatch.setenv("INTERCARGA_CLUSTER__NATS_URL", "http://127.0.0.1:4222")
    with pytest.raises(ConfigurationError, match=r"nats:// or tls://"):
        load_settings()
