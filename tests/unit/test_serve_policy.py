"""The policy's serve.listen field: `enclave serve` listens on loopback only unless the
administrator's policy names another address; a broken policy means loopback only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.paths import Paths
from app.privacy.policy import POLICY_ENV, Policy, PolicyError, load_policy, parse_policy


def test_no_policy_allows_loopback_only() -> None:
    policy = Policy.closed()
    assert policy.allows_listen("127.0.0.1")
    assert policy.allows_listen("::1")
    assert policy.allows_listen("localhost")
    assert not policy.allows_listen("0.0.0.0")
    assert not policy.allows_listen("10.20.0.5")
    assert not policy.allows_listen("example.org")


def test_listed_addresses_are_allowed_and_no_other() -> None:
    policy = parse_policy(
        {"version": 1, "serve": {"listen": ["10.20.0.5", " 0.0.0.0 ", "fe80::1"]}}
    )
    assert policy.serve_listen == frozenset({"10.20.0.5", "0.0.0.0", "fe80::1"})
    assert policy.allows_listen("10.20.0.5")
    assert policy.allows_listen("0.0.0.0")
    assert policy.allows_listen("[fe80::1]")
    assert not policy.allows_listen("10.20.0.6")
    assert not policy.allows_listen("::")
    assert not policy.frontier_route_exists  # listening opens no way out


@pytest.mark.parametrize("bad", [["lan-host.internal"], ["10.20.0.300"], "10.20.0.5"])
def test_host_names_and_garbage_are_refused(bad: object) -> None:
    with pytest.raises(PolicyError, match="serve"):
        parse_policy({"version": 1, "serve": {"listen": bad}})


def test_unknown_serve_key_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"serve\.port"):
        parse_policy({"version": 1, "serve": {"listen": [], "port": 80}})


def test_a_broken_policy_file_means_loopback_only(enclave_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"version": 1, "serve": {"listen": ["10.20.0.5"]}, "x": 1}))
    env = {POLICY_ENV: str(path)}
    policy = load_policy(Paths.from_env(), env)
    assert policy.problem is not None
    assert not policy.allows_listen("10.20.0.5")
    assert policy.allows_listen("127.0.0.1")
    path.write_text(json.dumps({"version": 1, "serve": {"listen": ["10.20.0.5"]}}))
    assert load_policy(Paths.from_env(), env).allows_listen("10.20.0.5")
