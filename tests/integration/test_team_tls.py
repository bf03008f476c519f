"""TLS to the team database (issue 14): the policy's `sslmode` and `ca_file` against a real
PostgreSQL started here with ssl=on and a certificate signed by a throwaway CA (openssl).

- verify-full with the organisation's CA: the connection is made, and it is encrypted;
- a CA that did not sign the server's certificate: refused, in one sentence that names it;
- verify-full with no CA at all: refused, in one sentence that says what to set.

The Chroma server: `chroma run` (chromadb 1.5) has no TLS options; docs/DEPLOYMENT.md puts it
behind the organisation's TLS reverse proxy. That path is not tested here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import team_servers

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, Path]]:
    why = team_servers.missing() or (None if shutil.which("openssl") else "openssl is missing")
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the TLS tests: {why}")
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("tls")
    certs = team_servers.make_certificates(folder / "org")
    other = team_servers.make_certificates(folder / "other", "Some other CA")
    with team_servers.postgres(tls=certs) as pg:
        pg.add_user("alice")
        yield pg, certs, other.ca


def _team(pg: Any, host: str = "127.0.0.1", **policy: Any) -> Any:
    from app.frontier.keys import KeyStore
    from app.library.team import TeamWorkspaces, db_key_id
    from app.privacy.team_policy import ChromaServerPolicy, PostgresServer, TeamServers

    servers = TeamServers(
        PostgresServer(host, pg.port, team_servers.DB, **policy),
        ChromaServerPolicy("127.0.0.1", team_servers.free_port(), ssl=False),  # never used
    )
    keys = KeyStore(team_servers.MemoryKeyring(), trust_backend=True)
    keys.set_api_key(db_key_id("alice"), pg.users["alice"])
    return TeamWorkspaces(servers, keys, user="alice")


def test_verify_full_with_the_organisations_ca_connects_encrypted(tls_server: Any) -> None:
    pg, certs, _ = tls_server
    for host in ("127.0.0.1", "localhost"):  # the certificate names both
        team = _team(pg, host, sslmode="verify-full", ca_file=str(certs.ca))
        conn = team.connect()
        try:
            row = conn.execute(
                "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
            ).fetchone()
        finally:
            conn.close()
        assert row[0] is True and row[1].startswith("TLS")
        assert team.list() == []  # and the schema is there, read as alice


def test_a_ca_that_did_not_sign_the_certificate_is_refused_in_one_sentence(
    tls_server: Any,
) -> None:
    from app.library.team import TeamUnavailable

    pg, _, wrong_ca = tls_server
    for mode in ("verify-full", "verify-ca"):
        with pytest.raises(TeamUnavailable) as caught:
            _team(pg, sslmode=mode, ca_file=str(wrong_ca)).list()
        message = str(caught.value)
        assert message == (
            f"The team database 127.0.0.1:{pg.port} presented a certificate that the CA in "
            f"{wrong_ca} does not vouch for, so Enclave did not connect; ask your "
            "administrator for the right team.postgres.ca_file."
        )
        assert message.count(". ") == 0 and "\n" not in message


def test_verify_full_without_a_ca_says_what_to_set(
    tls_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.library.team import TeamUnavailable

    pg, _, _ = tls_server
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.postgresql/root.crt to fall back on
    monkeypatch.delenv("PGSSLROOTCERT", raising=False)
    with pytest.raises(TeamUnavailable, match=r"^The team database .* needs its certificate "
                       r"checked and no CA is given; set team.postgres.ca_file"):  # fmt: skip
        _team(pg, sslmode="verify-full").list()
