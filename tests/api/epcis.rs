//! EPCIS 2.0 (EPCIS.md): capture into a circuit, capture jobs, query, export, and the items EPCs
//! name. The corpus under `tests/epcis/` is what CI hashes with the reference implementation;
//! the export this test writes to `target/epcis/` is what CI validates with GS1's schema and
//! hashes again.

use serde_json::{Value, json};

use crate::helpers::{Receiver, TestApp, assert_error, json_with_status, spawn_app, spawn_with};

const OBJECT_EVENTS: &str = include_str!("../epcis/object-events.jsonld");
const AGGREGATIONS: &str = include_str!("../epcis/aggregation-transaction.jsonld");
const TRANSFORMATIONS: &str = include_str!("../epcis/transformation-association.jsonld");

fn document(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Posts `body` to the circuit's capture route as JSON-LD.
async fn post_capture(app: &TestApp, token: &str, circuit_id: &str, body: &Value) -> reqwest::Response {
    app.with_token(
        reqwest::Method::POST,
        &format!("/api/circuits/{circuit_id}/epcis/capture"),
        token,
    )
    .header("content-type", "application/ld+json")
    .body(body.to_string())
    .send()
    .await
    .unwrap()
}

async fn capture(app: &TestApp, token: &str, circuit_id: &str, body: &Value) -> Value {
    let response = post_capture(app, token, circuit_id, body).await;
    assert_eq!(response.headers()["gs1-epcis-version"], "2.0.0");
    assert_eq!(response.headers()["gs1-cbv-version"], "2.0.0");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let job = json_with_status(response, 202).await;
    assert_eq!(
        location,
        format!(
            "/api/circuits/{circuit_id}/epcis/capture/{}",
            job["captureID"].as_str().unwrap()
        )
    );
    assert_eq!(job["running"], false);
    assert_eq!(job["captureErrorBehaviour"], "rollback");
    job
}

async fn query(app: &TestApp, token: &str, parameters: &str) -> Value {
    json_with_status(app.get_as(&format!("/api/epcis/events?{parameters}"), token).await, 200).await
}

fn events_of(document: &Value) -> Vec<Value> {
    document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .unwrap()
        .clone()
}

/// Keeps a document as served for CI's validator and reference hasher, named by the engine
/// that served it.
fn written_for_ci(name: &str, text: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/epcis");
    std::fs::create_dir_all(&dir).unwrap();
    let engine = if std::env::var("TEST_DATABASE_URL").is_ok() {
        "postgres"
    } else {
        "sqlite"
    };
    std::fs::write(dir.join(format!("{name}-{engine}.jsonld")), text).unwrap();
}

#[tokio::test]
async fn documents_capture_query_and_export_as_epcis() {
    let app = spawn_app().await;
    let (token, _) = app.register("packer").await;
    let circuit_id = app.circuit(&token, json!({ "name": "Beef chain" })).await;

    for text in [OBJECT_EVENTS, AGGREGATIONS, TRANSFORMATIONS] {
        let job = capture(&app, &token, &circuit_id, &document(text)).await;
        assert_eq!(job["success"], true, "{job}");
        assert_eq!(job["errors"], json!([]));
    }
    let all = query(&app, &token, "perPage=500").await;
    assert_eq!(all["type"], "EPCISQueryDocument");
    let events = events_of(&all);
    assert_eq!(events.len(), 10);
    for event in &events {
        assert!(
            event["eventID"].as_str().unwrap().starts_with("ni:///sha-256;"),
            "{event}"
        );
        assert!(event.get("@context").is_none());
        assert!(event["recordTime"].is_string());
    }
    // Extensions keep their prefixes, bound in the document's context.
    assert_eq!(all["@context"][1]["farm"], "https://ns.defarm.example/farm/");
    assert_eq!(events[0]["farm:earTag"], "BR123456789012");

    // Capturing the same document again stores nothing twice.
    let again = capture(&app, &token, &circuit_id, &document(OBJECT_EVENTS)).await;
    assert_eq!(
        (again["eventsCaptured"].as_u64(), again["eventsDuplicated"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(events_of(&query(&app, &token, "perPage=500").await).len(), 10);

    // Query parameters: one EPC written as a URN finds the events naming its Digital Link.
    let aggregations = query(&app, &token, "eventType=AggregationEvent").await;
    assert_eq!(events_of(&aggregations).len(), 2);
    let shipping = query(&app, &token, "EQ_bizStep=shipping").await;
    assert_eq!(events_of(&shipping)[0]["type"], "TransactionEvent");
    let cow = "urn:epc:id:sgtin:7891234.012345.BOV0001";
    let naming = query(&app, &token, &format!("MATCH_anyEPC={cow}")).await;
    assert_eq!(
        events_of(&naming).len(),
        4,
        "commissioned, packed, shipped, slaughtered"
    );
    let parents = query(&app, &token, "MATCH_parentID=https://id.gs1.org/00/078912340000000422").await;
    assert_eq!(events_of(&parents).len(), 3);
    let late = query(
        &app,
        &token,
        "GE_eventTime=2026-12-02T00:00:00Z&LT_eventTime=2026-12-02T10:00:00Z",
    )
    .await;
    assert_eq!(events_of(&late).len(), 3);

    // Pages: perPage, nextPageToken and the Link header.
    let response = app.get_as("/api/epcis/events?perPage=4", &token).await;
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.ends_with("rel=\"next\""), "{link}");
    let first = json_with_status(response, 200).await;
    let next = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
    let second = json_with_status(app.get_as(&next, &token).await, 200).await;
    assert_eq!(events_of(&first).len(), 4);
    assert_ne!(events_of(&first)[0]["eventID"], events_of(&second)[0]["eventID"]);
    assert_eq!(
        first["epcisBody"]["queryResults"]["nextPageToken"].as_str().unwrap(),
        next.rsplit("nextPageToken=").next().unwrap()
    );

    // Unknown or malformed parameters: EPCIS's error shape.
    let refused = app.get_as("/api/epcis/events?EQ_colour=red", &token).await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["type"], "epcisException:QueryParameterException");

    // One event by its id; the events of one EPC.
    let event_id = events[0]["eventID"].as_str().unwrap();
    let encoded: String = url::form_urlencoded::byte_serialize(event_id.as_bytes()).collect();
    let one = json_with_status(app.get_as(&format!("/api/epcis/events/{encoded}"), &token).await, 200).await;
    assert_eq!(one["eventID"], event_id);
    assert_eq!(one["@context"][1]["farm"], "https://ns.defarm.example/farm/");
    let by_epc: String = url::form_urlencoded::byte_serialize(cow.as_bytes()).collect();
    let of_cow = json_with_status(
        app.get_as(&format!("/api/epcis/epcs/{by_epc}/events"), &token).await,
        200,
    )
    .await;
    assert_eq!(events_of(&of_cow).len(), 4);

    // Events recorded through the native routes on the cow, and on an item of another circuit.
    let cow_dfid = dfid_of(&app, &token, cow).await;
    let elsewhere = app.circuit(&token, json!({ "name": "Dairy" })).await;
    let other_dfid = app.item_in(&token, &elsewhere, 7).await;
    for (dfid, event_type, visibility) in [
        (&cow_dfid, "weighing", "CircuitOnly"),
        (&cow_dfid, "shipping", "Public"),
        (&cow_dfid, "treatment", "Private"),
        (&other_dfid, "milking", "CircuitOnly"),
    ] {
        let body = json!({
            "dfid": dfid, "event_type": event_type, "visibility": visibility,
            "occurred_at": "2026-11-20T09:30:00Z", "metadata": { "weight_kg": 412.5, "scale": "BAL-02" }
        });
        json_with_status(app.post_as("/api/events", &token, &body).await, 201).await;
    }

    // The export: one EPCISDocument with every event, written for CI's validator and hasher:
    // the captured ones first, then the native ones on the circuit's items as ObjectEvents.
    let response = app.get_as(&format!("/api/circuits/{circuit_id}/epcis"), &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["gs1-epcis-version"], "2.0.0");
    let text = response.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["type"], "EPCISDocument");
    let exported = export["epcisBody"]["eventList"].as_array().unwrap();
    let captured_ids: Vec<&Value> = events.iter().map(|event| &event["eventID"]).collect();
    let exported_ids: Vec<&Value> = exported.iter().map(|event| &event["eventID"]).collect();
    assert_eq!(exported_ids[..10], captured_ids[..]);
    let natives = &exported[10..];
    let native_types: Vec<&str> = natives
        .iter()
        .filter(|event| event["epcList"][0] == "https://id.gs1.org/01/07891234123459/21/BOV0001")
        .map(|event| event["bizStep"].as_str().unwrap())
        .collect();
    assert!(native_types.contains(&"shipping"), "{natives:?}");
    assert!(
        native_types.iter().any(|t| t.ends_with("/ns/event-type/weighing")),
        "{native_types:?}"
    );
    for event in natives {
        assert_eq!(event["type"], "ObjectEvent");
        assert_eq!(event["action"], "OBSERVE");
        assert!(event["eventID"].as_str().unwrap().starts_with("ni:///sha-256;"));
        let text = event.to_string();
        assert!(!text.contains("treatment") && !text.contains("milking"), "{event}");
    }
    let weighing = natives
        .iter()
        .find(|event| event["bizStep"].as_str().unwrap().ends_with("/ns/event-type/weighing"))
        .unwrap();
    assert_eq!(weighing["eventTime"], "2026-11-20T09:30:00Z");
    let metadata: Value = serde_json::from_str(weighing["defarm:metadata"].as_str().unwrap()).unwrap();
    assert_eq!(metadata, json!({ "weight_kg": 412.5, "scale": "BAL-02" }));
    assert!(
        export["@context"].to_string().contains("\"defarm\""),
        "{}",
        export["@context"]
    );
    // The filters apply to native events too.
    let shipped = json_with_status(
        app.get_as(&format!("/api/circuits/{circuit_id}/epcis?EQ_bizStep=shipping"), &token)
            .await,
        200,
    )
    .await;
    assert!(
        shipped["epcisBody"]["eventList"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["epcList"][0] == "https://id.gs1.org/01/07891234123459/21/BOV0001"
                && e["defarm:eventId"].is_string())
    );
    written_for_ci("export", &text);
}

#[tokio::test]
async fn epcs_become_items_and_events_on_them() {
    let app = spawn_app().await;
    let (token, _) = app.register("rancher").await;
    let circuit_id = app.circuit(&token, json!({})).await;
    let job = capture(&app, &token, &circuit_id, &document(OBJECT_EVENTS)).await;
    assert_eq!(job["success"], true, "{job}");

    // The EPC, in its canonical form, is the item's `epc` identifier; the item is in the circuit.
    let link = "https://id.gs1.org/01/07891234123459/21/BOV0001";
    let encoded: String = url::form_urlencoded::byte_serialize(link.as_bytes()).collect();
    let items = json_with_status(
        app.get_as(&format!("/api/items?key=epc&value={encoded}"), &token).await,
        200,
    )
    .await;
    let item = &items["data"][0];
    let dfid = item["dfid"].as_str().unwrap();
    assert!(
        item["identifiers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "epc" && i["value"] == link)
    );
    let circuit_items = json_with_status(
        app.get_as(&format!("/api/circuits/{circuit_id}/items"), &token).await,
        200,
    )
    .await;
    assert!(
        circuit_items["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["dfid"] == dfid)
    );
    // The captured event is an event on the item, with the EPCIS event as its metadata.
    let events = json_with_status(app.get_as(&format!("/api/items/{dfid}/events"), &token).await, 200).await;
    let object_event = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "ObjectEvent")
        .expect("the captured event is on the item")
        .clone();
    assert_eq!(object_event["metadata"]["farm:earTag"], "BR123456789012");
    assert_eq!(object_event["occurred_at"], "2026-11-30T11:15:00Z");
    assert_eq!(object_event["visibility"], "CircuitOnly");
}

#[tokio::test]
async fn an_invalid_event_rejects_the_whole_document() {
    let app = spawn_app().await;
    let (token, _) = app.register("checker").await;
    let circuit_id = app.circuit(&token, json!({})).await;
    let mut bad = document(AGGREGATIONS);
    bad["epcisBody"]["eventList"][1]["action"] = json!("MOVE");
    bad["epcisBody"]["eventList"][2]["epcList"][0] = json!("https://id.gs1.org/01/07891234123450/21/BOV0001");
    let job = capture(&app, &token, &circuit_id, &bad).await;
    assert_eq!(job["success"], false);
    let errors: Vec<(u64, String)> = job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["field"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(errors, vec![(1, "action".to_owned()), (2, "epcList[0]".to_owned())]);
    // Nothing of the document was stored, not even its valid first event.
    assert_eq!(events_of(&query(&app, &token, "").await).len(), 0);
    let job_url = format!(
        "/api/circuits/{circuit_id}/epcis/capture/{}",
        job["captureID"].as_str().unwrap()
    );
    let read = json_with_status(app.get_as(&job_url, &token).await, 200).await;
    assert_eq!(read["errors"], job["errors"]);
}

#[tokio::test]
async fn another_partys_epc_is_a_conflict_that_reveals_nothing() {
    let app = spawn_app().await;
    let (owner, _) = app.register("owner").await;
    let (other, _) = app.register("other").await;
    let owners_circuit = app.circuit(&owner, json!({})).await;
    let others_circuit = app.circuit(&other, json!({})).await;
    assert_eq!(
        capture(&app, &owner, &owners_circuit, &document(OBJECT_EVENTS)).await["success"],
        true
    );

    // The other user names the owner's animal: refused, event by event, naming only the EPC.
    let job = capture(&app, &other, &others_circuit, &document(AGGREGATIONS)).await;
    assert_eq!(job["success"], false);
    let first = &job["errors"][0];
    assert_eq!(
        (first["index"].as_u64(), first["code"].as_str()),
        (Some(0), Some("identifier_conflict"))
    );
    assert_eq!(first["field"], "childEPCs[0]");
    assert!(!job.to_string().contains("DFID-"), "{job}");
    assert_eq!(events_of(&query(&app, &other, "").await).len(), 0);

    // Members see a circuit's events; others see none of them, and not its jobs or export.
    assert_eq!(events_of(&query(&app, &other, "perPage=500").await).len(), 0);
    let job_url = format!(
        "/api/circuits/{others_circuit}/epcis/capture/{}",
        job["captureID"].as_str().unwrap()
    );
    assert_error(app.get_as(&job_url, &owner).await, 404, "not_found").await;
    assert_error(
        app.get_as(&format!("/api/circuits/{owners_circuit}/epcis"), &other)
            .await,
        404,
        "not_found",
    )
    .await;
    let capture_url = format!("/api/circuits/{owners_circuit}/epcis/capture");
    assert_error(
        app.post_as(&capture_url, &other, &document(OBJECT_EVENTS)).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn one_event_captures_with_its_location() {
    let app = spawn_app().await;
    let (token, _) = app.register("single").await;
    let circuit_id = app.circuit(&token, json!({})).await;
    let mut event = document(OBJECT_EVENTS)["epcisBody"]["eventList"][0].clone();
    event["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"farm": "https://ns.defarm.example/farm/"}]);
    let url = format!("/api/circuits/{circuit_id}/epcis/events");
    let response = app.post_as(&url, &token, &event).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created = json_with_status(response, 201).await;
    assert!(
        location.starts_with("/api/epcis/events/ni%3A%2F%2F%2Fsha-256%3B"),
        "{location}"
    );
    let read = json_with_status(app.get_as(&location, &token).await, 200).await;
    assert_eq!(read["eventID"], created["eventID"]);
    // The same event again: nothing new.
    let again = app.post_as(&url, &token, &event).await;
    assert_eq!(again.status(), 200);

    let mut wrong = event.clone();
    wrong["eventTimeZoneOffset"] = json!("3h");
    let refused = assert_error(app.post_as(&url, &token, &wrong).await, 400, "validation_error").await;
    assert_eq!(refused["details"]["field"], "eventTimeZoneOffset");
}

fn aggregation(parent: &str, children: &[&str], action: &str, time: &str) -> Value {
    json!({
        "type": "AggregationEvent", "eventTime": time, "eventTimeZoneOffset": "-03:00",
        "parentID": parent, "childEPCs": children, "action": action, "bizStep": "packing"
    })
}

fn epcis_document(events: Vec<Value>) -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-12-01T00:00:00Z",
        "epcisBody": { "eventList": events }
    })
}

async fn dfid_of(app: &TestApp, token: &str, epc: &str) -> String {
    let canonical = defarm::domain::epcis::Epc::parse(epc).unwrap();
    let encoded: String = url::form_urlencoded::byte_serialize(canonical.as_str().as_bytes()).collect();
    let items = json_with_status(
        app.get_as(&format!("/api/items?key=epc&value={encoded}"), token).await,
        200,
    )
    .await;
    items["data"][0]["dfid"]
        .as_str()
        .unwrap_or_else(|| panic!("no item for {epc}: {items}"))
        .to_owned()
}

fn names(nodes: &Value) -> Vec<String> {
    let mut names: Vec<String> = nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["epc"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// The recall drill: animals into a lot and the lot into cuts in the farm's circuit, cuts onto
/// a pallet in the packer's circuit with a retailer. The packer, in both, traces the whole
/// chain; the farm and the retailer see only their part, marked truncated.
#[tokio::test]
async fn a_recall_traces_across_circuits_without_leaking() {
    let app = spawn_app().await;
    let (farm, _) = app.register("farm").await;
    let (packer, packer_id) = app.register("packer").await;
    let (retailer, retailer_id) = app.register("retailer").await;
    let farm_circuit = app.circuit(&farm, json!({ "name": "Farm and packer" })).await;
    app.add_member(&farm, &farm_circuit, &packer_id, "Member").await;
    let packer_circuit = app.circuit(&packer, json!({ "name": "Packer and retailer" })).await;
    app.add_member(&packer, &packer_circuit, &retailer_id, "Member").await;

    let animal = |n: u32| format!("urn:epc:id:sgtin:7891234.012345.BOV{n:04}");
    let lot = "urn:epc:class:lgtin:7891234.012346.LOT-1".replace("class:lgtin", "id:sgtin");
    let cut = |n: u32| format!("urn:epc:id:sgtin:7891234.022222.CUT{n:03}");
    let pallet = "urn:epc:id:sscc:7891234.0000000077";
    let (a1, a2, c1, c2) = (animal(1), animal(2), cut(1), cut(2));

    // The farm: animals into a lot.
    let job = capture(
        &app,
        &farm,
        &farm_circuit,
        &epcis_document(vec![aggregation(&lot, &[&a1, &a2], "ADD", "2026-12-01T08:00:00-03:00")]),
    )
    .await;
    assert_eq!(job["success"], true, "{job}");
    // The packer, in the farm's circuit: the lot into cuts.
    let slaughter = json!({
        "type": "TransformationEvent", "eventTime": "2026-12-02T06:00:00-03:00", "eventTimeZoneOffset": "-03:00",
        "inputEPCList": [lot], "outputEPCList": [c1, c2], "bizStep": "killing"
    });
    let job = capture(&app, &packer, &farm_circuit, &epcis_document(vec![slaughter])).await;
    assert_eq!(job["success"], true, "{job}");
    // The packer, in its own circuit: cuts onto a pallet.
    let job = capture(
        &app,
        &packer,
        &packer_circuit,
        &epcis_document(vec![aggregation(
            pallet,
            &[&c1, &c2],
            "ADD",
            "2026-12-02T10:00:00-03:00",
        )]),
    )
    .await;
    assert_eq!(job["success"], true, "{job}");

    let pallet_dfid = dfid_of(&app, &packer, pallet).await;
    let animal_dfid = dfid_of(&app, &farm, &a1).await;
    let canonical = |epc: &str| defarm::domain::epcis::Epc::parse(epc).unwrap().as_str().to_owned();

    // The packer sees the whole chain both ways.
    let back = json_with_status(
        app.get_as(&format!("/api/items/{pallet_dfid}/trace?direction=backward"), &packer)
            .await,
        200,
    )
    .await;
    let mut all = vec![
        canonical(pallet),
        canonical(&c1),
        canonical(&c2),
        canonical(&lot),
        canonical(&a1),
        canonical(&a2),
    ];
    all.sort();
    assert_eq!(names(&back["nodes"]), all);
    assert_eq!(back["truncated"], false);
    assert_eq!(back["edges"].as_array().unwrap().len(), 6, "{back}");
    let forward = json_with_status(
        app.get_as(&format!("/api/items/{animal_dfid}/trace?direction=forward"), &packer)
            .await,
        200,
    )
    .await;
    let mut down = vec![
        canonical(&a1),
        canonical(&lot),
        canonical(&c1),
        canonical(&c2),
        canonical(pallet),
    ];
    down.sort();
    assert_eq!(names(&forward["nodes"]), down);

    // The farm: its part, truncated where the packer's circuit begins; no pallet.
    let farm_view = json_with_status(
        app.get_as(&format!("/api/items/{animal_dfid}/trace?direction=forward"), &farm)
            .await,
        200,
    )
    .await;
    let mut farm_part = vec![canonical(&a1), canonical(&lot), canonical(&c1), canonical(&c2)];
    farm_part.sort();
    assert_eq!(names(&farm_view["nodes"]), farm_part);
    assert_eq!(farm_view["truncated"], true);
    assert!(!farm_view.to_string().contains(&pallet_dfid));

    // The retailer: the pallet and its cuts, nothing of the farm.
    let retail_view = json_with_status(
        app.get_as(&format!("/api/items/{pallet_dfid}/trace"), &retailer).await,
        200,
    )
    .await;
    let mut retail_part = vec![canonical(pallet), canonical(&c1), canonical(&c2)];
    retail_part.sort();
    assert_eq!(names(&retail_view["nodes"]), retail_part);
    assert_eq!(retail_view["truncated"], true);
    assert!(!retail_view.to_string().contains(&animal_dfid));
    // The farm cannot even ask about the pallet.
    assert_error(
        app.get_as(&format!("/api/items/{pallet_dfid}/trace"), &farm).await,
        404,
        "not_found",
    )
    .await;

    // Containment: the pallet holds both cuts until one is taken off.
    let contents = json_with_status(
        app.get_as(&format!("/api/items/{pallet_dfid}/contents"), &packer).await,
        200,
    )
    .await;
    assert_eq!(names(&contents), {
        let mut c = vec![canonical(&c1), canonical(&c2)];
        c.sort();
        c
    });
    let cut_dfid = dfid_of(&app, &packer, &c2).await;
    let containers = json_with_status(
        app.get_as(&format!("/api/items/{cut_dfid}/containers"), &packer).await,
        200,
    )
    .await;
    assert_eq!(names(&containers), vec![canonical(pallet)]);
    let unpack = aggregation(pallet, &[&c2], "DELETE", "2026-12-02T12:00:00-03:00");
    assert_eq!(
        capture(&app, &packer, &packer_circuit, &epcis_document(vec![unpack])).await["success"],
        true
    );
    let contents = json_with_status(
        app.get_as(&format!("/api/items/{pallet_dfid}/contents"), &packer).await,
        200,
    )
    .await;
    assert_eq!(names(&contents), vec![canonical(&c1)]);
    let containers = json_with_status(
        app.get_as(&format!("/api/items/{cut_dfid}/containers"), &packer).await,
        200,
    )
    .await;
    assert_eq!(containers, json!([]));
    assert_error(
        app.get_as(&format!("/api/items/{pallet_dfid}/trace?max_depth=51"), &packer)
            .await,
        400,
        "validation_error",
    )
    .await;
}

#[tokio::test]
async fn subscribers_receive_matching_events_as_signed_query_documents() {
    let app = spawn_with(&[
        ("WEBHOOK_ALLOW_PRIVATE", "true"),
        ("PUBLIC_BASE_URL", "https://trace.example"),
    ])
    .await;
    let receiver = Receiver::start(vec![]).await;
    let (owner, _) = app.register("exporter").await;
    let circuit_id = app.circuit(&owner, json!({})).await;
    let settings = format!("/api/circuits/{circuit_id}/post-actions");
    let subscribe = |query: &str| json!({ "enabled": true, "trigger_events": ["epcis_event"], "epcis_query": query });
    for (query, parameter) in [("perPage=5", "perPage"), ("EQ_colour=red", "EQ_colour")] {
        let refused = app.put_as(&settings, &owner, &subscribe(query)).await;
        let body = assert_error(refused, 400, "validation_error").await;
        assert_eq!(body["details"]["field"], "epcis_query");
        assert!(body["error"].as_str().unwrap().contains(parameter), "{body}");
    }
    let wanted = "EQ_bizStep=commissioning|shipping";
    let saved = json_with_status(app.put_as(&settings, &owner, &subscribe(wanted)).await, 200).await;
    assert_eq!(saved["epcis_query"], wanted);
    assert_eq!(
        json_with_status(app.get_as(&settings, &owner).await, 200).await["epcis_query"],
        wanted
    );
    let hook = json!({ "name": "erp", "url": receiver.url });
    let webhook = json_with_status(app.post_as(&format!("{settings}/webhooks"), &owner, &hook).await, 201).await;

    // Of three captured events one is commissioning; of three native ones one is a shipping
    // others may see.
    capture(&app, &owner, &circuit_id, &document(OBJECT_EVENTS)).await;
    let dfid = app.item_in(&owner, &circuit_id, 1).await;
    for (event_type, visibility) in [
        ("shipping", "CircuitOnly"),
        ("weighing", "CircuitOnly"),
        ("shipping", "Private"),
    ] {
        let body = json!({ "dfid": dfid, "event_type": event_type, "visibility": visibility, "metadata": { "b": 1, "a": [2] } });
        json_with_status(app.post_as("/api/events", &owner, &body).await, 201).await;
    }
    let received = receiver.wait_for(2, 10).await;
    // A quiet period: an event the query leaves out would arrive within it.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let received = if received.len() > 2 {
        received
    } else {
        receiver.received()
    };
    assert_eq!(received.len(), 2, "{received:?}");

    let captured = events_of(&query(&app, &owner, "EQ_bizStep=commissioning").await);
    let mut biz_steps = Vec::new();
    for (index, delivery) in received.iter().enumerate() {
        assert_eq!(delivery.headers["x-defarm-event"], "epcis_event");
        assert!(delivery.headers["x-defarm-signature"].starts_with("sha256="));
        let body: Value = serde_json::from_str(&delivery.body).unwrap();
        assert_eq!(body["type"], "EPCISQueryDocument");
        let results = &body["epcisBody"]["queryResults"];
        assert_eq!(results["subscriptionID"], webhook["webhook_id"]);
        let events = results["resultsBody"]["eventList"].as_array().unwrap();
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert!(event["recordTime"].is_string());
        if event["bizStep"] == "commissioning" {
            assert_eq!(event["eventID"], captured[0]["eventID"]);
        } else {
            assert_eq!(event["defarm:metadata"], r#"{"a":[2],"b":1}"#);
            assert_eq!(event["epcList"][0], format!("https://trace.example/id/{dfid}"));
        }
        biz_steps.push(event["bizStep"].as_str().unwrap().to_owned());
        written_for_ci(&format!("subscription-{index}"), &delivery.body);
    }
    biz_steps.sort();
    assert_eq!(biz_steps, vec!["commissioning", "shipping"]);
}

/// A document of `count` ObjectEvents, each observing its own animal.
fn many_events(count: usize) -> Value {
    let events: Vec<Value> = (0..count)
        .map(|n| {
            json!({
                "type": "ObjectEvent",
                "eventTime": "2026-12-04T10:00:00Z",
                "eventTimeZoneOffset": "-03:00",
                "epcList": [format!("https://id.gs1.org/01/07891234123459/21/BULK{n}")],
                "action": "OBSERVE",
                "bizStep": "inspecting"
            })
        })
        .collect();
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-12-04T10:00:00Z",
        "epcisBody": { "eventList": events }
    })
}

/// Posts a document that is captured in the background; returns the job once it finished.
async fn captured_in_background(app: &TestApp, token: &str, circuit_id: &str, body: &Value) -> Value {
    let response = post_capture(app, token, circuit_id, body).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let accepted = json_with_status(response, 202).await;
    assert_eq!(accepted["running"], true, "{accepted}");
    crate::helpers::eventually(60, || async {
        let job = json_with_status(app.get_as(&location, token).await, 200).await;
        (job["running"] == false).then_some(job)
    })
    .await
    .expect("the capture job finishes")
}

#[tokio::test]
async fn large_documents_capture_in_the_background_within_a_deadline() {
    let app = spawn_app().await;
    let (token, _) = app.register("bulk-packer").await;
    let circuit_id = app.circuit(&token, json!({})).await;
    let job = captured_in_background(&app, &token, &circuit_id, &many_events(501)).await;
    assert_eq!(job["success"], true, "{job}");
    assert_eq!(job["eventsCaptured"], 501);

    // A capture that cannot finish within DB_BULK_TIMEOUT_MS stops, says so, and stores nothing.
    let hurried = spawn_with(&[("DB_BULK_TIMEOUT_MS", "1")]).await;
    let (token, _) = hurried.register("bulk-packer").await;
    let circuit_id = hurried.circuit(&token, json!({})).await;
    let job = captured_in_background(&hurried, &token, &circuit_id, &many_events(501)).await;
    assert_eq!(job["success"], false, "{job}");
    assert_eq!(job["errors"][0]["code"], "capture_timeout", "{job}");
    let stored = query(&hurried, &token, "EQ_bizStep=inspecting").await;
    assert_eq!(events_of(&stored).len(), 0);
}
