"""The administrator policy: no file means no frontier route; anything malformed fails closed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.paths import Paths
from app.privacy.policy import (
    POLICY_ENV,
    REVIEW_ALWAYS_REQUIRED,
    PolicyError,
    PolicyRefusal,
    load_policy,
    parse_policy,
)
from app.settings import Settings, SettingsError

GOOD: dict[str, Any] = {
    "version": 1,
    "frontier": {
        "enabled": True,
        "endpoints": [
            {"id": "gateway", "base_url": "https://llm.example.org/v1/", "model": "gpt-4o"},
            {
                "id": "azure",
                "base_url": "https://acme.openai.azure.com/openai/deployments/gpt4o",
                "model": "gpt-4o",
                "api": "azure",
                "api_version": "2024-06-01",
            },
        ],
        "workspaces": ["clinic-notes"],
        "review_required": False,
        "max_chunks": 3,
    },
}


def _write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_no_policy_file_means_no_frontier_route() -> None:
    policy = load_policy(Paths.from_env())
    assert policy.source is None and policy.problem is None
    assert not policy.frontier_route_exists
    assert not policy.is_allowed("clinic-notes")
    with pytest.raises(PolicyRefusal, match="No administrator policy"):
        policy.check("clinic-notes")


def test_site_config_policy_is_read(enclave_home: Path) -> None:
    paths = Paths.from_env()
    paths.site_config.mkdir(parents=True)
    _write(paths.site_config / "policy.json", GOOD)
    policy = load_policy(paths)
    assert policy.source == paths.site_config / "policy.json"
    assert policy.is_allowed("clinic-notes")
    assert not policy.is_allowed("litigation")
    gateway = policy.check("clinic-notes")
    assert (gateway.host, gateway.port, gateway.base_url) == (
        "llm.example.org",
        443,
        "https://llm.example.org/v1",
    )
    assert policy.endpoint("azure").api_version == "2024-06-01"
    # The file says review is optional, but redaction's measured recall is below target:
    assert policy.review_required is REVIEW_ALWAYS_REQUIRED is True
    assert policy.redaction_required is True
    assert policy.max_chunks == 3


def test_enclave_policy_env_points_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(json.dumps(GOOD))
    data["frontier"]["workspaces"] = ["*"]
    monkeypatch.setenv(POLICY_ENV, str(_write(tmp_path / "managed.json", data)))
    policy = load_policy(Paths.from_env())
    assert policy.is_allowed("any-workspace-at-all")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "malformed"),
        ("[1, 2]", "JSON object"),
        ({"frontier": {"enabeld": True}}, "enabeld"),
        ({"version": 2, "frontier": {"enabled": True}}, "version"),
        (
            {"frontier": {"enabled": True, "endpoints": [
                {"id": "x", "base_url": "http://203.0.113.10/v1", "model": "m"}]}},
            "plain http",
        ),
        (
            {"frontier": {"enabled": True, "endpoints": [
                {"id": "x", "base_url": "https://user:secret@h.example/v1", "model": "m"}]}},
            "credentials",
        ),
        (
            {"frontier": {"enabled": True, "endpoints": [
                {"id": "x", "base_url": "https://a.example/v1", "model": "m"},
                {"id": "x", "base_url": "https://b.example/v1", "model": "m"}]}},
            "unique",
        ),
        ({"frontier": {"enabled": True, "timeout_s": -1}}, "timeout_s"),
    ],
)  # fmt: skip
def test_malformed_policy_fails_closed_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: Any, expected: str
) -> None:
    monkeypatch.setenv(POLICY_ENV, str(_write(tmp_path / "policy.json", content)))
    policy = load_policy(Paths.from_env())
    assert not policy.frontier_route_exists
    assert not policy.is_allowed("clinic-notes")
    assert policy.problem is not None
    assert "frontier models are disabled" in policy.problem
    assert expected in policy.problem
    with pytest.raises(PolicyRefusal) as refused:
        policy.check("clinic-notes")
    assert refused.value.reason == policy.problem


def test_missing_managed_policy_fails_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(POLICY_ENV, str(tmp_path / "absent.json"))
    policy = load_policy(Paths.from_env())
    assert not policy.frontier_route_exists
    assert policy.problem is not None and "does not exist" in policy.problem


def test_loopback_http_is_allowed_for_local_gateways() -> None:
    policy = parse_policy(
        {"frontier": {"enabled": True, "workspaces": ["w"], "endpoints": [
            {"id": "local", "base_url": "http://127.0.0.1:8080/v1", "model": "m"}]}}
    )  # fmt: skip
    assert policy.check("w").port == 8080


def test_unapproved_destinations_and_endpoints_are_refused() -> None:
    policy = parse_policy(GOOD)
    assert policy.check_url("https://llm.example.org/v1", "gpt-4o").id == "gateway"
    with pytest.raises(PolicyRefusal, match="not an approved destination"):
        policy.check_url("https://203.0.113.10/v1")
    with pytest.raises(PolicyRefusal, match="not an approved destination"):
        policy.check_url("https://llm.example.org/v1", "another-model")
    with pytest.raises(PolicyRefusal, match="not approved"):
        policy.endpoint("my-own-server")
    with pytest.raises(PolicyRefusal, match="does not allow this workspace"):
        policy.check("litigation")


def test_disabled_policy_refuses_even_with_endpoints() -> None:
    data = json.loads(json.dumps(GOOD))
    data["frontier"]["enabled"] = False
    policy = parse_policy(data)
    assert not policy.is_allowed("clinic-notes")


def test_parse_policy_raises_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"frontier\.endpoints"):
        parse_policy({"frontier": {"endpoints": [{"id": "x"}]}})


def test_user_settings_cannot_widen_the_policy(enclave_home: Path) -> None:
    """The settings file has no frontier fields: a user cannot switch the route on there."""
    paths = Paths.from_env().ensure()
    _write(paths.settings_file, {"frontier": {"enabled": True}})
    with pytest.raises(SettingsError):
        Settings.load(paths.settings_file)
    assert not load_policy(paths).frontier_route_exists
