"""The policy's `team` entry (the shared workspaces' servers) and the shared index's words."""

from __future__ import annotations

import pytest

from app.privacy.policy import PolicyError, parse_policy

TEAM = {
    "postgres": {"host": "db.firm.internal", "port": 5432, "sslmode": "verify-full"},
    "chroma": {"host": "vectors.firm.internal", "port": 8000, "ssl": True},
}


def test_a_policy_names_the_team_servers() -> None:
    policy = parse_policy({"version": 1, "team": TEAM})
    assert policy.team is not None
    assert policy.team.postgres.destination == "db.firm.internal:5432"
    assert policy.team.chroma.destination == "vectors.firm.internal:8000"
    assert policy.team.approves("DB.firm.internal", 5432)
    assert not policy.team.approves("db.firm.internal", 5433)
    assert not policy.team.approves("elsewhere.example", 8000)
    assert parse_policy({"version": 1}).team is None  # no entry: every workspace local


@pytest.mark.parametrize(
    ("part", "change", "words"),
    [
        ("postgres", {"sslmode": "disable"}, "sslmode"),
        ("postgres", {"sslmode": "prefer"}, "sslmode"),
        ("chroma", {"ssl": False}, "ssl: true"),
        ("postgres", {"ca_file": "relative.pem"}, "absolute"),
        ("chroma", {"password": "x"}, "Extra inputs"),
    ],
)
def test_unencrypted_or_odd_team_entries_are_refused_in_words(
    part: str, change: dict[str, object], words: str
) -> None:
    team = {k: dict(v) for k, v in TEAM.items()}
    team[part].update(change)
    with pytest.raises(PolicyError, match=words):
        parse_policy({"version": 1, "team": team})


def test_plain_connections_are_allowed_on_loopback_only() -> None:
    team = {
        "postgres": {"host": "127.0.0.1", "port": 5432, "sslmode": "disable"},
        "chroma": {"host": "localhost", "port": 8000, "ssl": False},
    }
    assert parse_policy({"version": 1, "team": team}).team is not None


def test_without_team_servers_shared_workspaces_say_so_in_one_sentence() -> None:
    from app.library.team import TeamUnavailable, TeamWorkspaces

    team = TeamWorkspaces(None, None, user="alice")
    with pytest.raises(TeamUnavailable, match="names no team servers"):
        team.connect()
    with pytest.raises(TeamUnavailable, match="names no team servers"):
        team.list()


def test_query_phrases_are_fts_querys_phrases_as_sqlite_tokenizes_them() -> None:
    from rag.manifest import fts_query
    from rag.pg_lexical import query_phrases
    from rag.word_tokens import WordTokenizer

    tokens = WordTokenizer()
    text = 'Governing LAW law "quoted" 2:19-cv-01234 — cafés OR NEAR(x)'
    phrases = query_phrases(text, tokens)
    assert phrases == [
        ["govern"],
        ["law"],
        ["quot"],
        ["2", "19", "cv", "01234"],
        ["cafe"],
        ["or"],
        ["near", "x"],
    ]
    assert fts_query(text).count(" OR ") + 1 == len(phrases)  # the same terms, in order
    got = tokens.tokens(["The termination; terminated, TERMINATES."])[0]
    assert got.positions == {"the": [0], "termin": [1, 2, 3]} and got.count == 4
