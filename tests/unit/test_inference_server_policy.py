"""The policy's on-premises inference servers: what a good entry gives, and one clear sentence
(never a traceback, and no server at all: the policy fails closed) for each bad one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.paths import Paths
from app.privacy.policy import POLICY_ENV, PolicyError, PolicyRefusal, load_policy, parse_policy

SERVER: dict[str, Any] = {
    "id": "team-70b",
    "base_url": "https://llm.hospital.internal:8443/v1/",
    "model": "llama-3.1-70b-instruct",
    "label": "Team 70B",
    "domains": ["clinical", "legal"],
    "tiers": ["verify"],
    "ca_file": "/etc/ssl/certs/hospital-root-ca.pem",
    "requires_key": True,
}


def policy_with(*servers: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, "inference_servers": list(servers), **top}


def test_a_good_entry_is_an_on_premises_model_distinct_from_the_frontier() -> None:
    policy = parse_policy(policy_with(SERVER))
    (server,) = policy.inference_servers
    assert server.base_url == "https://llm.hospital.internal:8443/v1"  # trailing slash gone
    assert (server.host, server.port) == ("llm.hospital.internal", 8443)
    assert server.destination == "llm.hospital.internal:8443"
    assert server.domains == ("clinical", "legal") and server.tiers == ("verify",)
    assert server.ca_file == SERVER["ca_file"] and server.verify_tls and server.requires_key
    # the administrator's choice, off by default (a frontier route forces it)
    assert server.redaction is False
    assert not policy.frontier_route_exists and not policy.is_allowed("any")
    assert policy.inference_server("team-70b") is server
    assert policy.check_server_url("https://llm.hospital.internal:8443/v1/") is server


def test_defaults_are_short_timeouts_and_no_key() -> None:
    minimal = {"id": "s", "base_url": "http://127.0.0.1:8000/v1", "model": "m"}
    (server,) = parse_policy(policy_with(minimal)).inference_servers
    assert (server.connect_timeout_s, server.read_timeout_s, server.timeout_s) == (5, 60, 300)
    assert not server.requires_key and not server.redaction and server.verify_tls
    assert server.domains == () and server.tiers == ()


def test_plain_http_on_the_network_needs_the_administrators_explicit_choice() -> None:
    lan = {"id": "s", "base_url": "http://10.0.0.5:8000/v1", "model": "m", "allow_http": True}
    assert parse_policy(policy_with(lan)).inference_servers[0].host == "10.0.0.5"


def test_tls_checks_can_be_turned_off_by_the_administrator() -> None:
    entry = {"id": "s", "base_url": "https://10.0.0.5/v1", "model": "m", "verify_tls": False}
    assert parse_policy(policy_with(entry)).inference_servers[0].verify_tls is False


BAD: list[tuple[dict[str, Any], str]] = [
    ({**SERVER, "base_url": "http://10.0.0.5:8000/v1"},
     "inference_servers.0: 'http://10.0.0.5:8000/v1' is plain http: use https, or set "
     "allow_http to true to accept unencrypted traffic on your network"),
    ({**SERVER, "base_url": "ftp://llm.internal/v1"},
     "inference_servers.0: 'ftp://llm.internal/v1' is not an http(s) URL"),
    ({**SERVER, "base_url": "https://user:pw@llm.internal/v1"},
     "inference_servers.0: a base URL must not carry credentials"),
    ({**SERVER, "review": True},
     "inference_servers.0.review: review before sending is not available for an on-premises "
     "server; set it to false, or approve the server as a frontier endpoint, whose requests "
     "are always reviewed"),
    ({**SERVER, "domains": ["finance"]},
     "inference_servers.0.domains.0: Input should be 'clinical', 'legal' or 'general'"),
    ({**SERVER, "tiers": ["fast"]},
     "inference_servers.0.tiers.0: Input should be 'direct', 'reasoning', 'self_consistency' "
     "or 'verify'"),
    ({**SERVER, "ca_file": "certs/ca.pem"},
     "inference_servers.0.ca_file: ca_file must be an absolute path to a PEM file"),
    ({**SERVER, "verify_tls": False},
     "inference_servers.0: ca_file needs an https base_url with verify_tls left true"),
    ({**SERVER, "api_key": "sk-123"},
     "inference_servers.0.api_key: Extra inputs are not permitted"),
    ({k: v for k, v in SERVER.items() if k != "model"},
     "inference_servers.0.model: Field required"),
    ({**SERVER, "connect_timeout_s": 0},
     "inference_servers.0.connect_timeout_s: Input should be greater than 0"),
    ({**SERVER, "id": "team 70b"},
     "inference_servers.0.id: String should match pattern '^[A-Za-z0-9][A-Za-z0-9._-]*$'"),
]  # fmt: skip


@pytest.mark.parametrize(("entry", "problem"), BAD)
def test_a_bad_entry_is_one_clear_sentence(entry: dict[str, Any], problem: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(policy_with(entry))
    message = str(caught.value)
    assert message == f"the policy is invalid: {problem}"
    assert "\n" not in message and "Traceback" not in message and "pydantic" not in message


def test_ids_are_unique_and_not_shared_with_a_frontier_endpoint() -> None:
    with pytest.raises(PolicyError, match="inference server ids must be unique"):
        parse_policy(policy_with(SERVER, SERVER))
    frontier = {"enabled": True, "endpoints": [
        {"id": "team-70b", "base_url": "https://gw.example.org/v1", "model": "m"}]}  # fmt: skip
    with pytest.raises(PolicyError, match="names both an inference server and a frontier"):
        parse_policy(policy_with(SERVER, frontier=frontier))


def test_a_bad_entry_in_the_file_closes_everything_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy_with(SERVER, {**SERVER, "id": "b", "review": True})))
    monkeypatch.setenv(POLICY_ENV, str(path))
    policy = load_policy(Paths.from_env())
    assert policy.inference_servers == () and policy.problem is not None
    assert "inference_servers.1.review: review before sending is not available" in policy.problem


def test_a_server_or_url_the_policy_does_not_name_is_refused_in_one_sentence() -> None:
    policy = parse_policy(policy_with(SERVER))
    with pytest.raises(PolicyRefusal) as caught:
        policy.check_server_url("https://llm.elsewhere.example/v1")
    assert caught.value.reason == (
        "https://llm.elsewhere.example/v1 is not an approved inference server, so Enclave sends "
        "nothing to it; only your administrator's policy can approve one."
    )
    with pytest.raises(PolicyRefusal, match="'other' is not an inference server approved"):
        policy.inference_server("other")
