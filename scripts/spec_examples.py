#!/usr/bin/env python3
"""Captures the spec's examples from a real server: a farm registers a Nelore steer, shares it in
its cooperative's circuit, records events, a meat packer joins, an item changes hands. Every
request body sent and every 2xx JSON answer is kept under the name of its schema (answers with no
named schema under their operation) in src/adapters/http/examples.json, which the spec normaliser puts on each operation (a few values
that point at this machine, such as the webhook's URL, are replaced by realistic ones).

Usage: scripts/spec_examples.py   (builds nothing: run `cargo build` first; takes ~20 s)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = json.load(open(os.path.join(ROOT, "openapi/openapi.json")))
OUT = os.path.join(ROOT, "src/adapters/http/examples.json")
PORT = 3981
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "Nelore-2026!"

# operationId -> (request schema, response schema), from the committed spec.
SCHEMAS = {}
for path, item in SPEC["paths"].items():
    for method, op in item.items():
        if not isinstance(op, dict) or "operationId" not in op:
            continue

        def named(content):
            for media in content.values():
                schema = media.get("schema", {})
                ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
                if ref:
                    return ref.split("/")[-1]
            return None

        request = named(op.get("requestBody", {}).get("content", {}))
        response = next(
            (named(r.get("content", {})) for code, r in op["responses"].items() if code.startswith("2")),
            None,
        )
        SCHEMAS[op["operationId"]] = (request, response)

examples = {}
by_operation = {}


def keep(name, value):
    """The first value seen for a named schema; a list answer gives its first entry."""
    if isinstance(value, list):
        value = value[0] if value else None
    if name and value is not None and name not in examples:
        examples[name] = shortened(value)


def shortened(value):
    """At most two entries in any list (one in a page's `data`): an example shows the shape."""
    if isinstance(value, list):
        return [shortened(entry) for entry in value[:2]]
    if isinstance(value, dict):
        return {k: shortened(v[:1] if k == "data" and isinstance(v, list) else v) for k, v in value.items()}
    return value


def call(operation, method, path, body=None, token=None, key=None):
    headers = {"Content-Type": "application/json", "User-Agent": "FazendaERP/2.4"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as err:
        sys.exit(f"{operation}: {method} {path} answered {err.code}: {err.read().decode()}")
    answer = json.loads(text) if text else None
    request_schema, response_schema = SCHEMAS[operation]
    keep(request_schema, body)
    keep(response_schema, answer)
    return answer


def post_text(operation, path, text, content_type, token):
    """A text request body; its JSON answer is kept like `call`'s."""
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
    request = urllib.request.Request(BASE + path, data=text.encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read().decode())
    except urllib.error.HTTPError as err:
        sys.exit(f"{operation}: POST {path} answered {err.code}: {err.read().decode()}")
    keep(SCHEMAS[operation][1], answer)
    return answer


def post_epcis(operation, path, body, token):
    """An EPCIS JSON-LD body; kept under the operation (it has no named schema), and so is the
    answer when it has none either."""
    headers = {"Content-Type": "application/ld+json", "Authorization": f"Bearer {token}"}
    request = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read().decode())
    except urllib.error.HTTPError as err:
        sys.exit(f"{operation}: POST {path} answered {err.code}: {err.read().decode()}")
    by_operation[f"{operation}.request"] = body
    if SCHEMAS[operation][1]:
        keep(SCHEMAS[operation][1], answer)
    else:
        by_operation[operation] = answer
    return answer


def raw(path, token=None):
    """A text answer, as it comes."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(BASE + path, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def main():
    work = tempfile.mkdtemp()
    env = dict(
        os.environ,
        DATA_DIR=work,
        DATABASE_URL=f"sqlite://{work}/examples.db?mode=rwc",
        PORT=str(PORT),
        HOST="127.0.0.1",
        RUST_LOG="warn",
        LOG_INTEGRATE_MS="50",
        WEBHOOK_ALLOW_PRIVATE="true",
        WEBHOOK_TIMEOUT_MS="500",
        DEFARM_ADMIN_USERNAME="ops.defarm",
        DEFARM_ADMIN_EMAIL="ops@defarm.example",
        DEFARM_ADMIN_PASSWORD=PASSWORD,
    )
    env.pop("REDIS_URL", None)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    server = subprocess.Popen([os.path.join(target, "debug/defarm")], env=env)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(BASE + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        journey()
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    examples.update(REALISTIC)
    captured = {"schemas": dict(sorted(examples.items())), "operations": dict(sorted(by_operation.items()))}
    text = json.dumps(captured, indent=2, ensure_ascii=False)
    text = text.replace("http://127.0.0.1:9/hooks/defarm", "https://erp.frigorificosul.example/hooks/defarm")
    text = text.replace('"127.0.0.1"', '"203.0.113.7"')
    with open(OUT, "w") as out:
        out.write(text)
        out.write("\n")
    print(f"{len(examples)} schemas and {len(by_operation)} operations have an example ({OUT})")


def epcis(joao, cid):
    """The farm's steer in EPCIS 2.0: commissioned with its ear tag, loaded onto a truck's
    pallet; queried and exported by its EPC. In a circuit of its own: the cooperative's requires
    a SISBOV number, which an EPC alone does not carry."""
    cid = call("create_circuit", "POST", "/api/circuits", {
        "name": "Rastreio EPCIS Boa Vista", "description": "Eventos EPCIS 2.0 do rebanho"}, token=joao)["circuit_id"]
    context = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
               {"fazenda": "https://fazendaboavista.example/epcis/"}]
    steer = "urn:epc:id:sgtin:7891234.012345.BOV0001"
    commissioning = {
        "type": "ObjectEvent", "eventTime": "2026-11-28T08:30:00-03:00", "eventTimeZoneOffset": "-03:00",
        "epcList": [steer], "action": "ADD", "bizStep": "commissioning", "disposition": "active",
        "readPoint": {"id": "urn:epc:id:sgln:7891234.00001.0"}, "fazenda:piquete": "Piquete 7"}
    loading = {
        "type": "AggregationEvent", "eventTime": "2026-11-29T05:10:00-03:00", "eventTimeZoneOffset": "-03:00",
        "parentID": "urn:epc:id:sscc:7891234.0000000042", "childEPCs": [steer], "action": "ADD",
        "bizStep": "loading", "readPoint": {"id": "urn:epc:id:sgln:7891234.00001.0"}}
    document = {"@context": context, "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": "2026-11-28T09:00:00-03:00", "epcisBody": {"eventList": [commissioning]}}
    job = post_epcis("epcis_capture", f"/api/circuits/{cid}/epcis/capture", document, joao)
    if not job["success"]:
        sys.exit(f"epcis_capture: {job['errors']}")
    call("epcis_capture_job", "GET", f"/api/circuits/{cid}/epcis/capture/{job['captureID']}", token=joao)
    event = post_epcis("epcis_capture_event", f"/api/circuits/{cid}/epcis/events", dict(loading, **{"@context": context}), joao)
    quote = urllib.parse.quote
    by_operation["epcis_query"] = shortened(call("epcis_query", "GET", "/api/epcis/events?EQ_bizStep=commissioning", token=joao))
    by_operation["epcis_event"] = call("epcis_event", "GET", f"/api/epcis/events/{quote(event['eventID'], safe='')}", token=joao)
    by_operation["epcis_epc_events"] = shortened(call("epcis_epc_events", "GET", f"/api/epcis/epcs/{quote(steer, safe='')}/events", token=joao))
    by_operation["epcis_export"] = shortened(json.loads(raw(f"/api/circuits/{cid}/epcis", token=joao)))
    pallet_epc = "https://id.gs1.org/00/078912340000000422"
    pallet = call("list_items", "GET", f"/api/items?key=epc&value={quote(pallet_epc, safe='')}", token=joao)["data"][0]["dfid"]
    steer_dfid = call("list_items", "GET", f"/api/items?key=epc&value={quote('https://id.gs1.org/01/07891234123459/21/BOV0001', safe='')}", token=joao)["data"][0]["dfid"]
    call("item_contents", "GET", f"/api/items/{pallet}/contents", token=joao)
    call("item_containers", "GET", f"/api/items/{steer_dfid}/containers", token=joao)
    call("item_trace", "GET", f"/api/items/{pallet}/trace?direction=backward", token=joao)


def journey():
    farm = call("register", "POST", "/api/auth/register", {
        "username": "fazenda.boa.vista", "email": "joao@fazendaboavista.example",
        "password": PASSWORD, "workspace_name": "Fazenda Boa Vista"})
    joao = farm["token"]
    packer = call("register", "POST", "/api/auth/register", {
        "username": "frigorifico.sul", "email": "compras@frigorificosul.example", "password": PASSWORD})
    maria = packer["token"]
    admin = call("login", "POST", "/api/auth/login", {"username": "ops.defarm", "password": PASSWORD})["token"]
    call("profile", "GET", "/api/auth/profile", token=joao)
    key = call("create_api_key", "POST", "/api/api-keys", {
        "name": "ERP integration", "permissions": {"read": True, "write": True, "admin": False},
        "allowed_ips": ["203.0.113.0/24"], "notes": "Nightly herd sync from the farm ERP",
        "organization_type": "farm", "rate_limit_per_hour": 5000}, token=joao)
    call("get_api_key", "GET", f"/api/api-keys/{key['id']}", token=joao)
    call("update_api_key", "PATCH", f"/api/api-keys/{key['id']}", {"notes": "Nightly herd sync (ERP v2)"}, token=joao)
    call("api_key_usage", "GET", f"/api/api-keys/{key['id']}/usage", token=joao)
    call("list_api_keys", "GET", "/api/api-keys", token=joao)

    circuit = call("create_circuit", "POST", "/api/circuits", {
        "name": "Cooperativa Vale do Araguaia", "adapter_type": "local",
        "description": "Nelore cattle of the cooperative's members, from birth to slaughter",
        "permissions": {"allow_public_visibility": True, "require_approval_for_push": False,
                        "require_approval_for_pull": False}}, token=joao)
    cid = circuit["circuit_id"]
    call("update_circuit", "PUT", f"/api/circuits/{cid}", {
        "description": "Nelore cattle of the cooperative's members, from birth to slaughter (Pará)",
        "alias_config": {"required_canonical": ["sisbov"], "allowed_namespaces": ["bovino"],
                         "default_namespace": "bovino", "required_contextual": []}}, token=joao)
    call("get_circuit_adapter", "GET", f"/api/circuits/{cid}/adapter", token=joao)
    call("list_adapters", "GET", "/api/adapters", token=joao)
    call("adapter_health", "GET", "/api/adapters/local/health", token=joao)
    call("list_circuits", "GET", "/api/circuits", token=joao)
    packer_id = packer["user_id"]
    call("add_member", "POST", f"/api/circuits/{cid}/members", {"username": "frigorifico.sul", "role": "Member"}, token=joao)
    role = call("create_role", "POST", f"/api/circuits/{cid}/roles", {
        "role_name": "Veterinarian", "description": "Records vaccinations and health checks",
        "permissions": ["Push", "Pull", "Certify"], "color": "#2e7d32"}, token=joao)
    call("update_member", "PUT", f"/api/circuits/{cid}/members/{packer_id}", {"role": "Member", "custom_role": role["role_id"]}, token=joao)
    call("list_members", "GET", f"/api/circuits/{cid}/members", token=joao)
    call("list_roles", "GET", f"/api/circuits/{cid}/roles", token=joao)

    steer = call("create_local_item", "POST", "/api/items/local", {
        "identifiers": [
            {"key": "sisbov", "value": "BR123456789012", "namespace": "bovino"},
            {"key": "rfid", "value": "982000123456789", "namespace": "bovino"},
            {"key": "ear_tag", "value": "BV-0427", "namespace": "bovino", "id_type": "Contextual", "scope": "organization"}],
        "enriched_data": {"species": "bovino", "breed": "Nelore", "sex": "M", "birth_date": "2024-09-14",
                          "farm": "Fazenda Boa Vista", "municipality": "Redenção/PA"}}, token=joao)
    lid = steer["local_id"]
    call("get_local_item", "GET", f"/api/items/local/{lid}", token=joao)
    call("list_local_items", "GET", "/api/items/local", token=joao)
    calves = call("create_local_items", "POST", "/api/items/local/batch", {"items": [
        {"identifiers": [{"key": "sisbov", "value": "BR123456789029", "namespace": "bovino"}],
         "enriched_data": {"breed": "Nelore", "sex": "F", "birth_date": "2025-08-02"}},
        {"identifiers": [{"key": "sisbov", "value": "BR123456789036", "namespace": "bovino"}],
         "enriched_data": {"breed": "Nelore", "sex": "M", "birth_date": "2025-08-05"}}]}, token=joao)
    herd = ("sisbov,rfid,namespace,breed,sex,birth_date,paddock\r\n"
            "BR123456789043,982000123456790,bovino,Nelore,F,2025-09-01,Retiro 3\r\n"
            "BR123456789050,982000123456791,bovino,Nelore,M,2025-09-03,Retiro 3\r\n")
    by_operation["import_local_items"] = herd
    post_text("import_local_items", "/api/items/local/import", herd, "text/csv; charset=utf-8", token=joao)
    local_event = call("create_local_event", "POST", "/api/events/local", {
        "event_type": "weighing", "metadata": {"weight_kg": 412.5, "scale": "BAL-02"},
        "occurred_at": "2026-11-20T09:30:00Z", "visibility": "CircuitOnly"}, token=joao)
    call("list_local_events", "GET", "/api/events/local", token=joao)
    pushed = call("push_local", "POST", f"/api/circuits/{cid}/push-local", {"local_id": lid}, token=joao)
    dfid = pushed["dfid"]
    call("push_local_batch", "POST", f"/api/circuits/{cid}/push-local/batch", {"items": [
        {"local_id": calf["local_id"], "enriched_data": {"weaned": True}} for calf in calves["items"][1:]]}, token=joao)
    call("get_item_mapping", "GET", f"/api/items/mapping/{lid}", token=joao)
    call("push_events", "POST", f"/api/circuits/{cid}/push-events", {"dfid": dfid, "local_event_ids": [local_event["local_event_id"]]}, token=joao)
    event = call("create_event", "POST", "/api/events", {
        "dfid": dfid, "event_type": "vaccination", "visibility": "Public",
        "metadata": {"vaccine": "Aftosa (FMD), bivalent", "dose_ml": 5, "batch": "L-2611-07", "veterinarian": "CRMV-PA 04512"},
        "occurred_at": "2026-11-22T14:05:00Z"}, token=joao)
    call("get_event", "GET", f"/api/events/{event['event_id']}", token=joao)
    call("list_item_events", "GET", f"/api/items/{dfid}/events", token=joao)
    call("list_events", "GET", f"/api/events?dfid={dfid}", token=joao)
    call("enrich_item", "PATCH", f"/api/items/{dfid}", {"enriched_data": {"weight_kg": 431.0, "pasture": "Piquete 7"}}, token=joao)
    item = call("get_item", "GET", f"/api/items/{dfid}", token=joao)
    for _ in range(100):  # the stored copy is written by the outbox, shortly after the change
        if item["latest_cid"]:
            break
        time.sleep(0.1)
        item = call("get_item", "GET", f"/api/items/{dfid}", token=joao)
    by_operation["get_stored_content"] = call("get_stored_content", "GET", f"/api/storage/{item['latest_cid']}", token=joao)
    call("list_items", "GET", "/api/items", token=joao)
    call("list_circuit_items", "GET", f"/api/circuits/{cid}/items", token=joao)
    call("list_item_versions", "GET", f"/api/items/{dfid}/versions", token=joao)
    call("get_item_version", "GET", f"/api/items/{dfid}/versions/2", token=joao)
    call("diff_item_versions", "GET", f"/api/items/{dfid}/versions/2/diff?from=1", token=joao)
    receipt = call("create_receipt", "POST", "/api/receipts", {
        "sha256": "9f2c5b1e0a7d4c3b8e6f1a2d5c7b9e0f3a4d6c8b1e2f5a7c9d0b3e6f8a1c4d7e",
        "dfid": dfid, "label": "GTA 2611-0427 (animal transit permit)"}, token=joao)
    call("get_receipt", "GET", f"/api/receipts/{receipt['receipt_id']}", token=joao)
    call("list_receipts", "GET", "/api/receipts", token=joao)
    call("verify_receipt", "POST", "/api/receipts/verify", {"sha256": receipt["sha256"]}, token=joao)
    time.sleep(0.5)
    call("get_item_proof", "GET", f"/api/items/{dfid}/proof", token=joao)
    call("item_storage_history", "GET", f"/api/items/{dfid}/storage-history", token=joao)
    epcis(joao, cid)
    by_operation["export_circuit_items"] = raw(f"/api/circuits/{cid}/items.csv", token=joao)
    by_operation["export_circuit_events"] = raw(f"/api/circuits/{cid}/events.csv", token=joao)
    call("users_me_stats", "GET", "/api/users/me/stats", token=joao)
    call("circuit_stats", "GET", f"/api/circuits/{cid}/stats", token=joao)

    call("set_post_actions", "PUT", f"/api/circuits/{cid}/post-actions", {
        "enabled": True, "trigger_events": ["item_pushed", "event_created"], "include_storage_details": False}, token=joao)
    call("get_post_actions", "GET", f"/api/circuits/{cid}/post-actions", token=joao)
    hook = call("create_webhook", "POST", f"/api/circuits/{cid}/post-actions/webhooks", {
        "name": "Packer ERP", "url": "http://127.0.0.1:9/hooks/defarm", "method": "POST",
        "auth_type": "BearerToken", "auth_credentials": "erp-token-not-a-real-secret",
        "headers": {"X-Tenant": "frigorifico-sul"}, "enabled": True,
        "retry_config": {"max_retries": 5, "initial_delay_ms": 1000, "max_delay_ms": 60000, "backoff_multiplier": 2.0}}, token=joao)
    hid = hook["webhook_id"]
    call("get_webhook", "GET", f"/api/circuits/{cid}/post-actions/webhooks/{hid}", token=joao)
    call("update_webhook", "PUT", f"/api/circuits/{cid}/post-actions/webhooks/{hid}", {
        "name": "Packer ERP", "url": "http://127.0.0.1:9/hooks/defarm", "method": "POST", "enabled": True}, token=joao)
    call("list_webhooks", "GET", f"/api/circuits/{cid}/post-actions/webhooks", token=joao)
    call("test_webhook", "POST", f"/api/circuits/{cid}/post-actions/webhooks/{hid}/test", token=joao)
    call("list_deliveries", "GET", f"/api/circuits/{cid}/post-actions/deliveries", token=joao)

    call("set_public_settings", "PUT", f"/api/circuits/{cid}/public-settings", {
        "enabled": True, "access_mode": "Public", "public_name": "Carne Vale do Araguaia",
        "public_description": "Every animal's history, from the farm it was born on to the packer",
        "tagline": "Rastreada do pasto ao prato", "primary_color": "#8d1c1c", "secondary_color": "#f4efe6",
        "footer_text": "Cooperativa Vale do Araguaia · Redenção/PA", "published_items": [dfid],
        "auto_approve_members": False, "auto_publish_pushed_items": True}, token=joao)
    call("get_public_page", "GET", f"/api/circuits/{cid}/public")
    call("get_public_item_proof", "GET", f"/api/circuits/{cid}/public/items/{dfid}/proof")
    buyer = call("register", "POST", "/api/auth/register", {
        "username": "mercado.central", "email": "qualidade@mercadocentral.example", "password": PASSWORD})
    request = call("request_to_join", "POST", f"/api/circuits/{cid}/requests", {
        "message": "We buy the cooperative's cuts and want to follow their history."}, token=buyer["token"])
    auditor = call("register", "POST", "/api/auth/register", {
        "username": "adepara.auditoria", "email": "auditoria@adepara.example", "password": PASSWORD})
    call("join_public_circuit", "POST", f"/api/circuits/{cid}/public/join", {
        "message": "Auditor for the state's animal health agency (ADEPARÁ)"}, token=auditor["token"])
    call("list_join_requests", "GET", f"/api/circuits/{cid}/requests", token=joao)
    call("approve_join_request", "POST", f"/api/circuits/{cid}/requests/{buyer['user_id']}/approve", {"role": "Viewer"}, token=joao)

    call("update_circuit", "PUT", f"/api/circuits/{cid}", {"permissions": {"allow_public_visibility": True, "require_approval_for_push": True, "require_approval_for_pull": False}}, token=joao)
    lot = call("create_local_item", "POST", "/api/items/local", {
        "identifiers": [{"key": "sisbov", "value": "BR123456789029", "namespace": "bovino"}],
        "enriched_data": {"species": "bovino", "breed": "Nelore", "sex": "F"}}, token=maria)
    pending = call("push_local", "POST", f"/api/circuits/{cid}/push-local", {"local_id": lot["local_id"]}, token=maria)
    call("list_operations", "GET", f"/api/circuits/{cid}/operations", token=joao)
    call("approve_operation", "POST", f"/api/circuits/{cid}/operations/{pending['operation_id']}/approve", {"reason": "SISBOV checked against the GTA"}, token=joao)
    call("pull_item", "POST", f"/api/circuits/{cid}/pull/{dfid}", token=maria)

    transfer = call("offer_transfer", "POST", f"/api/items/{dfid}/transfers", {
        "to": "frigorifico.sul", "message": "Lot 27, sold 2026-11-28, GTA 2611-0427"}, token=joao)
    call("get_transfer", "GET", f"/api/transfers/{transfer['transfer_id']}", token=maria)
    call("list_transfers", "GET", "/api/transfers", token=maria)
    call("accept_transfer", "POST", f"/api/transfers/{transfer['transfer_id']}/accept", token=maria)

    call("open_identifier_dispute", "POST", "/api/identifier-disputes", {
        "dfid": pending["dfid"], "key": "sisbov", "value": "BR123456789012",
        "evidence": "SISBOV certificate 2024/0427 names this heifer, not the steer"}, token=maria)
    disputes = call("admin_list_identifier_disputes", "GET", "/api/admin/identifier-disputes", token=admin)
    call("admin_resolve_identifier_dispute", "POST", f"/api/admin/identifier-disputes/{disputes['data'][0]['dispute_id']}/resolve", {
        "decision": "reject", "note": "The certificate belongs to another animal (BR123456789036)."}, token=admin)

    call("set_notification_settings", "PUT", "/api/notifications/settings", {"email": True}, token=joao)
    call("get_notification_settings", "GET", "/api/notifications/settings", token=joao)
    call("list_notifications", "GET", "/api/notifications", token=joao)
    call("unread_notifications", "GET", "/api/notifications/unread-count", token=joao)
    call("mark_all_notifications_read", "POST", "/api/notifications/mark-all-read", token=joao)
    call("list_activities", "GET", "/api/activities", token=joao)
    call("users_me_audit", "GET", "/api/users/me/audit", token=joao)
    call("admin_list_users", "GET", "/api/admin/users", token=admin)
    vet = call("admin_create_user", "POST", "/api/admin/users", {
        "username": "vet.carla", "email": "carla@clinicavet.example", "tier": "Professional", "status": "Active"}, token=admin)
    call("admin_update_user", "PATCH", f"/api/admin/users/{vet['user_id']}", {"email": "carla.souza@clinicavet.example"}, token=admin)
    call("admin_reset_password", "POST", f"/api/admin/users/{vet['user_id']}/reset-password", token=admin)
    call("admin_set_tier", "PUT", f"/api/admin/users/{farm['user_id']}/tier", {"tier": "Professional"}, token=admin)
    call("admin_set_status", "PUT", f"/api/admin/users/{buyer['user_id']}/status", {"status": "Active", "reason": "Documents verified"}, token=admin)
    call("admin_audit", "GET", "/api/admin/audit", token=admin)
    call("admin_stats", "GET", "/api/admin/stats", token=admin)
    call("log_checkpoints", "GET", "/log/checkpoints")
    call("log_inclusion_proof", "GET", "/log/proof/inclusion?index=2&tree_size=8")
    call("log_consistency_proof", "GET", "/log/proof/consistency?from=4&to=8")
    for operation, path in [("log_checkpoint", "/log/checkpoint"), ("log_key", "/log/key")]:
        by_operation[operation] = raw(path)
    call("health", "GET", "/health")
    call("health_db", "GET", "/health/db")
    call("health_ready", "GET", "/health/ready")
    call("version", "GET", "/version")
    call("forgot_password", "POST", "/api/auth/forgot-password", {"email": "joao@fazendaboavista.example"})
    call("change_password", "POST", "/api/auth/change-password", {
        "current_password": PASSWORD, "new_password": "Nelore-2027!", "revoke_api_keys": False}, token=joao)
    call("logout_all", "POST", "/api/auth/logout-all", {"revoke_api_keys": False}, token=maria)


# Bodies the journey cannot send as they are (a reset token comes by mail; a webhook's URL must
# resolve here) or whose captured value points at this machine.
REALISTIC = {
    "ResetPasswordRequest": {"token": "q8Zt3vN1xYpR7mKc2LwH5sJd9FgB4aTe6UoVn0iQ", "new_password": "Nelore-2027!"},
    "JoinRequestBody": {"message": "We buy the cooperative's cuts and want to follow their history."},
    "DigestBody": {"sha256": "9f2c5b1e0a7d4c3b8e6f1a2d5c7b9e0f3a4d6c8b1e2f5a7c9d0b3e6f8a1c4d7e",
                   "dfid": "DFID-20261126-000001-FF10", "label": "GTA 2611-0427 (animal transit permit)"},
}

if __name__ == "__main__":
    main()
