"""Connection settings read from Directus's own variables; DSNs printed without secrets."""

import pytest

from trm_directus.db import settings as db
from trm_directus.errors import ConfigError


def test_settings_come_from_directus_variables():
    s = db.DbSettings.from_env(
        {"DB_HOST": "db", "DB_PORT": "6543", "DB_DATABASE": "trm", "DB_USER": "u", "DB_PASSWORD": "p@ss/word"}
    )
    assert s.dsn == "postgresql://u:p%40ss%2Fword@db:6543/trm"


def test_mask_dsn_hides_the_password():
    assert db.mask_dsn("postgresql://u:secret@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert db.mask_dsn("postgresql://u@h:5432/d") == "postgresql://u@h:5432/d"


def test_non_numeric_port_and_other_clients_are_refused():
    with pytest.raises(ConfigError, match="DB_PORT"):
        db.DbSettings.from_env({"DB_PORT": "fivefour"})
    with pytest.raises(ConfigError, match="DB_CLIENT"):
        db.DbSettings.from_env({"DB_CLIENT": "mysql"})


def test_timeout_setting_is_validated():
    assert db.timeout_from_env({}) == 60
    assert db.timeout_from_env({"DB_INIT_TIMEOUT_SECONDS": "2.5"}) == 2.5
    with pytest.raises(ConfigError, match="DB_INIT_TIMEOUT_SECONDS"):
        db.timeout_from_env({"DB_INIT_TIMEOUT_SECONDS": "soon"})
    with pytest.raises(ConfigError):
        db.timeout_from_env({"DB_INIT_TIMEOUT_SECONDS": "0"})


@pytest.mark.parametrize(
    ("dsn", "masked"),
    [
        ("host=db port=5432 password=secret dbname=trm", "host=db port=5432 password=*** dbname=trm"),
        ("host=db password='two words' user=u", "host=db password=*** user=u"),
        ("host=db PASSWORD = s3cr3t", "host=db PASSWORD = ***"),
        ("postgresql://u@db/trm?sslmode=require&password=secret", "postgresql://u@db/trm?sslmode=require&password=***"),
        ("host=db user=u", "host=db user=u"),
    ],
)
def test_mask_dsn_hides_passwords_in_key_value_and_query_forms(dsn, masked):
    assert db.mask_dsn(dsn) == masked
