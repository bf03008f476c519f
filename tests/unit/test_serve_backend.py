"""What `enclave serve` serves, from a real Enclave (real workspaces, catalog and history on
disk, no model loaded): the models listed, `--workspace`, and what a request may name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.container import Enclave
from app.serve.backend import EnclaveBackend
from app.serve.errors import ServeError
from app.serve.names import Target

MODEL = "smollm2-135m-instruct"  # the embedded default, registered in every catalog


@pytest.fixture
def enclave(enclave_home: Path) -> Iterator[Enclave]:
    with Enclave() as app:
        app.workspaces.create("ACME")
        app.workspaces.create("Ward 7")
        yield app


def test_every_workspace_with_the_router_and_with_each_model(enclave: Enclave) -> None:
    backend = EnclaveBackend(enclave)
    assert backend.model_names() == [
        "enclave:acme", f"enclave:acme:{MODEL}", "enclave:ward-7", f"enclave:ward-7:{MODEL}",
    ]  # fmt: skip
    assert backend.resolve(Target("ward-7"), None).name == "Ward 7"
    assert backend.resolve(Target("Ward 7", MODEL), None).id == "ward-7"
    with pytest.raises(ServeError, match="Name a workspace"):
        backend.resolve(Target(), None)


def test_one_workspace_served_is_also_plain_enclave(enclave: Enclave) -> None:
    backend = EnclaveBackend(enclave, "acme")
    assert backend.model_names() == [
        "enclave", f"enclave::{MODEL}", "enclave:acme", f"enclave:acme:{MODEL}",
    ]  # fmt: skip
    assert backend.resolve(Target(), None).id == "acme"
    with pytest.raises(ServeError) as other:
        backend.resolve(Target("ward-7"), None)  # it exists, but is not served
    assert other.value.status == 404 and other.value.code == "model_not_found"


def test_unknown_workspace_model_and_conversation(enclave: Enclave) -> None:
    backend = EnclaveBackend(enclave)
    with pytest.raises(ServeError, match="no workspace 'nope'"):
        backend.resolve(Target("nope"), None)
    with pytest.raises(ServeError, match="no usable local model 'gpt-4o'"):
        backend.resolve(Target("acme", "gpt-4o"), None)
    with pytest.raises(ServeError, match="no conversation 'c0ffee'"):
        backend.resolve(Target("acme"), "c0ffee")
    ward = enclave.history.create_conversation("ward-7", "Which dose?")
    with pytest.raises(ServeError, match="no conversation"):
        backend.resolve(Target("acme"), ward.id)  # another workspace's conversation
    assert backend.resolve(Target("ward-7"), ward.id).id == "ward-7"


def test_serving_a_missing_workspace_is_refused(enclave: Enclave) -> None:
    from app.library.workspaces import WorkspaceError

    with pytest.raises(WorkspaceError, match="no workspace called 'nope'"):
        EnclaveBackend(enclave, "nope")


def test_two_first_requests_load_a_model_once(enclave: Enclave) -> None:
    """EngineManager.get does not wait for a load under way; the server loads a routed model
    one request at a time, so two first requests never start two inference threads for it."""
    import threading
    import time

    from app.chat.types import AskOptions, EvidenceFound, RouteDecided
    from app.routing.router import Route
    from models.types import CancelToken
    from tests.unit.test_serve_mapping import _quote

    class SlowEngines:
        def __init__(self) -> None:
            self.loads: list[str] = []
            self.ready: list[str] = []

        def loaded(self) -> list[str]:
            return list(self.ready)

        def close(self) -> None:
            pass

        def get(self, model_id: str) -> object:
            if model_id not in self.ready:
                self.loads.append(model_id)
                time.sleep(0.2)  # loading
                self.ready.append(model_id)
            return object()

    class RoutedChat:
        def ask(self, ws: object, question: str, options: object, cancel: object) -> Any:
            yield EvidenceFound([_quote()])
            yield RouteDecided(Route("specialist"))
            engines.get("specialist")  # what ChatService.ask does next

    engines = SlowEngines()
    enclave.__dict__["engines"] = engines  # the composition root's cached services, replaced
    enclave.__dict__["chat"] = RoutedChat()
    backend = EnclaveBackend(enclave)
    ws = backend.resolve(Target("acme"), None)
    threads = [
        threading.Thread(target=lambda: list(backend._ask(ws, "Q?", AskOptions(), CancelToken())))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert engines.loads == ["specialist"]
