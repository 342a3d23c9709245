//! Schema-driven fuzzing over HTTP: every operation in `openapi.json` is called with parameters,
//! headers and bodies drawn from its schemas and from hostile values. No answer may be a 5xx
//! (but the contract's 503 for an `X-Min-Position` the read models have not reached).
//! Reproducible: the seed is fixed unless `FUZZ_SEED` is set; `FUZZ_ITERATIONS` sets the calls
//! per operation.

use serde_json::{Map, Value, json};

use crate::api::{NO_RATE_LIMITS, SANDBOX_SECRET, TestApp};

/// xorshift64*: small, fast and good enough to pick test values.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const STRINGS: &[&str] = &[
    "", " ", "a", "100.00", "0.00", "-5.00", "1e9", "0.001", "999999999999999.99", "NaN", "sandbox", "student", "speaker",
    "admin", "ar", "en", "payment.captured", "payment.failed", "user@example.com", "Correct#Horse9", "سارة", "\u{0000}",
    "' OR 1=1 --", "<script>", "../../etc/passwd", "%00", "00000000-0000-0000-0000-000000000000", "🙂🙂",
];

fn long_string(rng: &mut Rng) -> String {
    "x".repeat(1 + rng.below(5000))
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &spec["components"]["schemas"][name],
        None => schema,
    }
}

fn value_for(rng: &mut Rng, spec: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(spec, schema);
    if depth > 4 || rng.chance(15) {
        return hostile(rng);
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).find(|k| *k != "null").unwrap_or("string").to_owned(),
        _ => "object".to_owned(),
    };
    match kind.as_str() {
        "string" => match rng.below(3) {
            0 => json!(long_string(rng)),
            _ => json!(*rng.pick(STRINGS)),
        },
        "integer" | "number" => json!(*rng.pick(&[0i64, 1, -1, 20, 100, 101, i64::MAX, i64::MIN])),
        "boolean" => json!(rng.chance(50)),
        "array" => Value::Array((0..rng.below(3)).map(|_| value_for(rng, spec, &schema["items"], depth + 1)).collect()),
        _ => {
            let mut object = Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    // Sometimes leave a field out, required or not.
                    if !rng.chance(15) {
                        object.insert(name.clone(), value_for(rng, spec, property, depth + 1));
                    }
                }
            }
            if rng.chance(10) {
                object.insert("unexpected".into(), hostile(rng));
            }
            Value::Object(object)
        }
    }
}

fn hostile(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => Value::Null,
        1 => json!(-1),
        2 => json!(1.5e308),
        3 => json!([]),
        4 => json!({}),
        5 => json!(true),
        6 => json!(long_string(rng)),
        _ => json!(*rng.pick(STRINGS)),
    }
}

fn raw_body(rng: &mut Rng, spec: &Value, schema: Option<&Value>) -> Vec<u8> {
    match (rng.below(16), schema) {
        (0, _) => b"{not json".to_vec(),
        (1, _) => b"[1,2,3]".to_vec(),
        (2, _) => Vec::new(),
        (3, _) => "[".repeat(200).into_bytes(),
        (_, Some(schema)) => value_for(rng, spec, schema, 0).to_string().into_bytes(),
        (_, None) => hostile(rng).to_string().into_bytes(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_drawn_from_the_openapi_document_gets_a_5xx() {
    let mut settings = NO_RATE_LIMITS.to_vec();
    settings.extend([("BOOTSTRAP_ADMIN_EMAIL", "admin@example.com"), ("BOOTSTRAP_ADMIN_PASSWORD", "Admin#Pass2026")]);
    let app = TestApp::spawn(&settings).await;
    let speaker = app.register("speaker").await;
    let admin = app.login("admin@example.com", "Admin#Pass2026").await;
    let top_up = app.top_up(&speaker.token, "10.00").await;
    let spec = app.get_with("/openapi.json", None, &[]).await.body;

    let seed = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_1234_ABCD_0001u64);
    let iterations: usize = std::env::var("FUZZ_ITERATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut rng = Rng(seed);
    let forged_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiLCJyb2xlcyI6WyJhZG1pbiJdLCJleHAiOjk5OTk5OTk5OTl9.";
    // Mostly valid callers, so requests get past authentication to the parsing behind it.
    let tokens = [Some(speaker.token.as_str()), Some(speaker.token.as_str()), Some(admin.as_str()), None, Some("garbage"), Some(forged_none)];
    let top_up_id = top_up.to_string();
    let path_values = [top_up_id.as_str(), "sandbox", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "%20", "x".repeat(300).leak()];

    let mut calls = 0;
    let mut statuses = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            for _ in 0..iterations {
                let mut url = path.trim_start_matches("/api/v1").to_owned();
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    if parameter["in"] == "path" {
                        let name = parameter["name"].as_str().unwrap_or_default();
                        // Mostly the one provider there is, so the webhook's parsing is reached.
                        let value = if name == "provider" && rng.chance(80) { "sandbox" } else { *rng.pick(&path_values[..]) };
                        url = url.replace(&format!("{{{name}}}"), value);
                    }
                }
                let mut query = Vec::new();
                let mut headers: Vec<(String, String)> = Vec::new();
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                    // Each X-Min-Position ahead of the log waits out its timeout: send it rarely.
                    if rng.chance(40) || (name == "X-Min-Position" && !rng.chance(15)) {
                        continue;
                    }
                    let value = match value_for(&mut rng, &spec, &parameter["schema"], 1) {
                        Value::String(text) => text,
                        other => other.to_string(),
                    };
                    match parameter["in"].as_str() {
                        Some("query") => query.push(format!("{name}={}", urlencode(&value))),
                        // A fresh key most of the time, so the body is what gets tested.
                        Some("header") if name == "Idempotency-Key" && rng.chance(80) => headers.push((name, uuid::Uuid::now_v7().to_string())),
                        Some("header") if value.bytes().all(|b| (0x20..0x7f).contains(&b)) => headers.push((name, value)),
                        _ => {}
                    }
                }
                if !query.is_empty() {
                    url = format!("{url}?{}", query.join("&"));
                }
                let body_schema = operation["requestBody"]["content"]["application/json"]["schema"].as_object().map(|_| {
                    &operation["requestBody"]["content"]["application/json"]["schema"]
                });
                let body = (method != "get").then(|| raw_body(&mut rng, &spec, body_schema));
                // Sign most bodies as the provider would, so webhook parsing is reached too.
                if let Some(body) = &body {
                    let signature = if rng.chance(75) { api::wallet::payments::sign(SANDBOX_SECRET, body) } else { "00ff".into() };
                    headers.push(("Signature".into(), signature));
                }
                let mut token = rng.pick(&tokens).map(str::to_owned);
                if path.ends_with("/auth/logout") && token.as_deref().is_some_and(|t| t == speaker.token || t == admin) {
                    // Logging out would revoke the token the other calls use: spend a fresh one.
                    token = Some(app.login(&speaker.username, crate::api::PASSWORD).await);
                }
                let token = token.as_deref();
                let header_refs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let response = app.send(method.clone(), &url, token, &header_refs, body.clone()).await;
                calls += 1;
                *statuses.entry(format!("{method} {path} {}", response.status)).or_insert(0u32) += 1;
                // The contract's one 5xx for client input: a read ahead of the log, 503 stale_read.
                let stale_read = response.status == 503 && response.body["error"]["code"] == "stale_read";
                if response.status >= 500 && !stale_read {
                    failures.push(format!("{method} {url} headers {headers:?} body {:?} -> {} {}",
                        body.map(|b| String::from_utf8_lossy(&b).chars().take(200).collect::<String>()), response.status, response.text));
                }
            }
        }
    }
    eprintln!("fuzz statuses: {statuses:?}");
    // A valid, signed notification among the noise, to show the webhook still works after it.
    let settled = app.webhook(&json!({ "event_id": "fuzz-final", "type": "payment.captured", "top_up_id": top_up, "amount": "10.00" })).await;
    assert!(settled.status < 500, "{}", settled.text);
    assert!(calls >= 10 * iterations, "the document lists the routes ({calls} calls)");
    assert!(failures.is_empty(), "{} of {calls} calls answered 5xx (seed {seed:#x}):\n{}", failures.len(), failures.join("\n"));
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
