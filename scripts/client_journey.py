#!/usr/bin/env python3
"""A short journey through a Python client generated from openapi/openapi.json: register, log in,
create a circuit and a local item, push it, add an event, read both back. Every call goes through
the generated functions and models, so a spec that generates a broken client fails here.

usage: client_journey.py <base url>   (the generated package `defarm_client` on PYTHONPATH)
"""
import sys
import uuid

from defarm_client import AuthenticatedClient, Client
from defarm_client.api.auth import login, register
from defarm_client.api.circuits import create_circuit, push_local
from defarm_client.api.events import create_event
from defarm_client.api.items import create_local_item, get_item, list_item_events
from defarm_client.models import (
    IdentifierInputBody,
    LoginRequest,
    NewCircuitBody,
    NewEvent,
    NewLocalItem,
    LocalPush,
    RegisterRequest,
    VisibilityName,
)
from defarm_client.models.error import Error


def expect(value, kind):
    """The call answered the documented success model, not an error or nothing."""
    if not isinstance(value, kind):
        raise SystemExit(f"expected {kind.__name__}, got {value!r}")
    return value


def main(base_url):
    name = f"journey{uuid.uuid4().hex[:8]}"
    password = "Journey-passw0rd!"
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    expect(register.sync(client=anonymous, body=RegisterRequest(username=name, email=f"{name}@example.com",
                                                                password=password)), object)
    wrong = login.sync(client=anonymous, body=LoginRequest(username=name, password="not-it-at-all"))
    expect(wrong, Error)
    session = login.sync(client=anonymous, body=LoginRequest(username=name, password=password))
    client = AuthenticatedClient(base_url=base_url, token=session.token, raise_on_unexpected_status=True)

    circuit = create_circuit.sync(client=client, body=NewCircuitBody(name="Journey co-op"))
    local = create_local_item.sync(client=client, body=NewLocalItem(
        identifiers=[IdentifierInputBody(key="cpf", value="529.982.247-25")],
        enriched_data={"breed": "Nelore"},
    ))
    pushed = push_local.sync(circuit.circuit_id, client=client, body=LocalPush(local_id=local.local_id))
    event = create_event.sync(client=client, body=NewEvent(
        dfid=pushed.dfid, event_type="Weighed", visibility=VisibilityName.PUBLIC, metadata={"kg": 412},
    ))

    item = get_item.sync(pushed.dfid, client=client)
    assert item.dfid == pushed.dfid, item
    assert circuit.circuit_id in item.circuits, item
    assert any(i.value == "52998224725" for i in item.identifiers), item.identifiers
    events = list_item_events.sync(pushed.dfid, client=client)
    types = [e.event_type for e in events.data]
    assert event.event_id in [e.event_id for e in events.data], types
    assert "Tokenized" in types and "Weighed" in types, types
    print(f"journey ok: {name} pushed {pushed.dfid} into {circuit.circuit_id}; events {types}")


if __name__ == "__main__":
    main(sys.argv[1])
