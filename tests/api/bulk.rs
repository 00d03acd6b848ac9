//! Local items many at a time: the JSON batch and the spreadsheet import.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, cpf, json_with_status, spawn_app, spawn_with};

async fn import(app: &TestApp, token: &str, csv: impl Into<reqwest::Body>) -> reqwest::Response {
    app.with_token(reqwest::Method::POST, "/api/items/local/import", token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv)
        .send()
        .await
        .unwrap()
}

async fn local_count(app: &TestApp, token: &str) -> usize {
    let listed = json_with_status(app.get_as("/api/items/local?limit=500", token).await, 200).await;
    listed["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_batch_creates_every_item_in_order_or_none() {
    let app = spawn_app().await;
    let (farm, _) = app.register("farm").await;
    let items: Vec<Value> = (0..3)
        .map(|n| json!({ "identifiers": [{ "key": "cpf", "value": cpf(n) }], "enriched_data": { "n": n } }))
        .collect();
    let created = json_with_status(
        app.post_as("/api/items/local/batch", &farm, &json!({ "items": items }))
            .await,
        201,
    )
    .await;
    assert_eq!(created["count"], 3);
    for n in 0..3 {
        assert_eq!(created["items"][n]["enriched_data"]["n"], n);
        assert_eq!(created["items"][n]["status"], "LocalOnly");
    }
    let local_id = created["items"][0]["local_id"].as_str().unwrap();
    json_with_status(app.get_as(&format!("/api/items/local/{local_id}"), &farm).await, 200).await;

    let bad = json!({ "items": [
        { "identifiers": [{ "key": "cpf", "value": cpf(7) }] },
        { "identifiers": [{ "key": "sisbov", "value": "BR12" }] },
        {},
        { "enriched_data": { "weight": 412 }, "identifiers": [{ "key": "", "value": "x" }] },
    ] });
    let error = assert_error(
        app.post_as("/api/items/local/batch", &farm, &bad).await,
        400,
        "invalid_rows",
    )
    .await;
    assert_eq!(error["details"]["error_count"], 2, "{error}");
    assert_eq!(error["details"]["errors"][0]["row"], 1);
    assert_eq!(error["details"]["errors"][0]["field"], "items[1].identifiers[0]");
    assert_eq!(error["details"]["errors"][0]["code"], "invalid_identifier");
    assert_eq!(error["details"]["errors"][1]["row"], 3);
    assert_eq!(error["details"]["errors"][1]["field"], "items[3].identifiers[0].key");
    assert_eq!(
        local_count(&app, &farm).await,
        3,
        "nothing of the refused batch was kept"
    );

    let too_many = json!({ "items": vec![json!({}); 1001] });
    assert_error(
        app.post_as("/api/items/local/batch", &farm, &too_many).await,
        400,
        "validation_error",
    )
    .await;
    let empty = json!({ "items": [] });
    assert_error(
        app.post_as("/api/items/local/batch", &farm, &empty).await,
        400,
        "validation_error",
    )
    .await;
}

#[tokio::test]
async fn a_batch_counts_toward_the_monthly_limit_as_a_whole() {
    let app = spawn_with(&[("TIER_MAX_ITEMS_PER_MONTH_BASIC", "5")]).await;
    let (farm, _) = app.register("farm").await;
    json_with_status(app.post_as("/api/items/local", &farm, &json!({})).await, 201).await;
    let five = json!({ "items": vec![json!({}); 5] });
    let error = assert_error(
        app.post_as("/api/items/local/batch", &farm, &five).await,
        403,
        "tier_limit_exceeded",
    )
    .await;
    assert_eq!(error["details"]["requested"], 5);
    assert_eq!(error["details"]["current"], 1);
    assert_eq!(local_count(&app, &farm).await, 1);
    let four = json!({ "items": vec![json!({}); 4] });
    json_with_status(app.post_as("/api/items/local/batch", &farm, &four).await, 201).await;
    let csv = "lote\nL-1\n";
    assert_error(import(&app, &farm, csv).await, 403, "tier_limit_exceeded").await;
}

#[tokio::test]
async fn a_spreadsheet_becomes_local_items_with_registries_namespace_and_data() {
    let app = spawn_app().await;
    let (farm, _) = app.register("farm").await;
    let csv = format!(
        "SISBOV,cpf,namespace,Raça,peso,obs\r\n\
         BR123456789012,{},bovino,Nelore,412,\"pasto 3, lote \"\"A\"\"\"\r\n\
         ,,,Angus,007,\"two\nlines\"\r\n",
        cpf(1)
    );
    let imported = json_with_status(import(&app, &farm, csv).await, 201).await;
    assert_eq!(imported["count"], 2);
    let first = imported["local_ids"][0].as_str().unwrap();
    let item = json_with_status(app.get_as(&format!("/api/items/local/{first}"), &farm).await, 200).await;
    assert_eq!(item["identifiers"][0]["key"], "sisbov");
    assert_eq!(item["identifiers"][0]["value"], "BR123456789012");
    assert_eq!(item["identifiers"][0]["namespace"], "bovino");
    assert_eq!(item["identifiers"][1]["key"], "cpf");
    assert_eq!(item["identifiers"][1]["id_type"], "Canonical");
    assert_eq!(
        item["enriched_data"],
        json!({ "Raça": "Nelore", "peso": "412", "obs": "pasto 3, lote \"A\"" })
    );
    let second = imported["local_ids"][1].as_str().unwrap();
    let item = json_with_status(app.get_as(&format!("/api/items/local/{second}"), &farm).await, 200).await;
    assert_eq!(item["identifiers"], json!([]));
    assert_eq!(
        item["enriched_data"],
        json!({ "Raça": "Angus", "peso": "007", "obs": "two\nlines" })
    );
}

#[tokio::test]
async fn bad_rows_are_named_by_line_and_column_and_nothing_is_created() {
    let app = spawn_app().await;
    let (farm, _) = app.register("farm").await;
    // Line 4 starts a quoted cell over two lines, so the row after it is line 6.
    let csv = "sisbov,cpf,namespace,nota\n\
               BR123456789012,,,ok\n\
               BR12,,,curto\n\
               ,,,\"dois\nlinhas\"\n\
               ,11111111111,peixe,x\n\
               ,,,a,b\n";
    let error = assert_error(import(&app, &farm, csv).await, 400, "invalid_rows").await;
    let errors = &error["details"]["errors"];
    assert_eq!(error["details"]["error_count"], 3, "{error}");
    assert_eq!(errors[0]["row"], 3);
    assert_eq!(errors[0]["field"], "sisbov");
    assert_eq!(errors[0]["code"], "invalid_identifier");
    assert_eq!(errors[1]["row"], 6);
    assert_eq!(errors[1]["field"], "namespace");
    assert_eq!(errors[2]["row"], 7);
    assert_eq!(errors[2]["code"], "invalid_csv");
    assert_eq!(local_count(&app, &farm).await, 0);

    let cpf_row = "cpf\n11111111111\n";
    let error = assert_error(import(&app, &farm, cpf_row).await, 400, "invalid_rows").await;
    assert_eq!(error["details"]["errors"][0]["field"], "cpf");

    for header in ["a,,b\n1,2,3\n", "peso,PESO\n1,2\n"] {
        assert_error(import(&app, &farm, header).await, 400, "invalid_csv").await;
    }
    assert_error(import(&app, &farm, "peso\n").await, 400, "validation_error").await;
    let not_utf8 = assert_error(import(&app, &farm, b"peso\n\xff\n".to_vec()).await, 400, "invalid_rows").await;
    assert_eq!(not_utf8["details"]["errors"][0]["row"], 2);
    assert_eq!(not_utf8["details"]["errors"][0]["code"], "invalid_csv");
    let json = app.post_as("/api/items/local/import", &farm, &json!({})).await;
    assert_error(json, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn an_import_is_bounded_in_rows_and_bytes_even_when_chunked() {
    let app = spawn_app().await;
    let (farm, _) = app.register("farm").await;
    let mut csv = String::from("lote\n");
    for i in 0..10_001 {
        csv.push_str(&format!("L-{i}\n"));
    }
    let error = assert_error(import(&app, &farm, csv).await, 400, "too_many_rows").await;
    assert!(error["error"].as_str().unwrap().contains("10000"));
    assert_eq!(local_count(&app, &farm).await, 0);

    // Small enough that the refused rest of the body still fits the sockets' buffers.
    let app = spawn_with(&[("MAX_IMPORT_BYTES", "2000")]).await;
    let (farm, _) = app.register("farm").await;
    let big = format!("lote\n{}\n", "x".repeat(3_000));
    assert_error(import(&app, &farm, big.clone()).await, 413, "payload_too_large").await;
    // Without a declared length the limit is counted as the body arrives.
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(1_000)
        .map(|chunk| Ok(String::from_utf8(chunk.to_vec()).unwrap()))
        .collect();
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    assert_error(import(&app, &farm, stream).await, 413, "payload_too_large").await;
    assert_eq!(local_count(&app, &farm).await, 0);
}

#[tokio::test]
async fn ten_thousand_rows_import_in_one_request() {
    let app = spawn_with(&[("TIER_MAX_ITEMS_PER_MONTH_BASIC", "20000")]).await;
    let (farm, _) = app.register("farm").await;
    let mut csv = String::from("rfid,lote,peso\n");
    for i in 0..10_000 {
        csv.push_str(&format!("982000{i:09},L-{},{}\n", i / 100, 300 + i % 200));
    }
    let imported = json_with_status(import(&app, &farm, csv).await, 201).await;
    assert_eq!(imported["count"], 10_000);
    assert_eq!(imported["local_ids"].as_array().unwrap().len(), 10_000);
    let last = imported["local_ids"][9_999].as_str().unwrap();
    let item = json_with_status(app.get_as(&format!("/api/items/local/{last}"), &farm).await, 200).await;
    assert_eq!(item["identifiers"][0]["value"], "982000000009999");
    assert_eq!(item["enriched_data"]["lote"], "L-99");
}

/// The items `token` sees in the circuit, counted afresh.
async fn circuit_items(app: &TestApp, token: &str, circuit: &str) -> u64 {
    let stats = json_with_status(app.get_as(&format!("/api/circuits/{circuit}/stats"), token).await, 200).await;
    stats["items"].as_u64().unwrap()
}

#[tokio::test]
async fn a_thousand_local_items_push_to_a_circuit_in_one_request_or_none_do() {
    let app = spawn_with(&[
        ("DASHBOARD_CACHE_SECONDS", "0"),
        ("TIER_MAX_ITEMS_PER_MONTH_BASIC", "2000"),
    ])
    .await;
    let (farm, _) = app.register("farm").await;
    let (other, _) = app.register("other").await;
    let circuit = app.circuit(&farm, json!({})).await;
    let herd: Vec<Value> = (0..1000)
        .map(|n| json!({ "identifiers": [{ "key": "cpf", "value": cpf(n) }] }))
        .collect();
    let created = json_with_status(
        app.post_as("/api/items/local/batch", &farm, &json!({ "items": herd }))
            .await,
        201,
    )
    .await;
    let local_ids: Vec<Value> = created["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["local_id"].clone())
        .collect();
    let path = format!("/api/circuits/{circuit}/push-local/batch");

    // Refused as a whole: a local item of another user and an identifier another user holds.
    let theirs = app.local_item(&other, json!([])).await;
    let held = app
        .local_item(&other, json!([{ "key": "cpf", "value": cpf(5000) }]))
        .await;
    app.push_local(&other, &app.circuit(&other, json!({})).await, &held, 201)
        .await;
    let mixed = json!({ "items": [
        { "local_id": local_ids[0] },
        { "local_id": theirs },
        { "local_id": local_ids[1], "identifiers": [{ "key": "cpf", "value": cpf(5000) }] },
        { "local_id": local_ids[0] },
    ] });
    let error = assert_error(app.post_as(&path, &farm, &mixed).await, 409, "rows_refused").await;
    let errors: Vec<(&str, &str)> = error["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            ("items[1].local_id", "not_found"),
            ("items[2].identifiers", "identifier_conflict"),
            ("items[3].local_id", "claimed_in_batch"),
        ]
    );
    assert!(
        !error.to_string().contains("DFID-"),
        "a conflict never names the item holding it"
    );
    assert_eq!(
        circuit_items(&app, &farm, &circuit).await,
        0,
        "nothing of a refused batch is kept"
    );

    let all = json!({ "items": local_ids.iter().map(|id| json!({ "local_id": id })).collect::<Vec<_>>() });
    let pushed = json_with_status(app.post_as(&path, &farm, &all).await, 201).await;
    assert_eq!(pushed["count"], 1000);
    let mut dfids: Vec<&str> = pushed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            assert_eq!(item["status"], "NewItemCreated");
            assert_eq!(item["operation_status"], "Completed");
            item["dfid"].as_str().unwrap()
        })
        .collect();
    assert_eq!(pushed["items"][999]["local_id"], local_ids[999]);
    dfids.sort_unstable();
    dfids.dedup();
    assert_eq!(dfids.len(), 1000, "one DFID each");
    assert_eq!(circuit_items(&app, &farm, &circuit).await, 1000);
    let last = pushed["items"][999]["dfid"].as_str().unwrap();
    let item = json_with_status(app.get_as(&format!("/api/items/{last}"), &farm).await, 200).await;
    assert_eq!(item["identifiers"][0]["value"], cpf(999));

    let again = json_with_status(app.post_as(&path, &farm, &all).await, 200).await;
    assert_eq!(again["items"][0]["status"], "AlreadyPushed");
    assert_eq!(again["items"][0]["dfid"], pushed["items"][0]["dfid"]);
}
