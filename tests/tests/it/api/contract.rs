//! The OpenAPI document as a contract the HTTP tests hold the server to. Every exchange a test
//! makes through `TestApp::send` is checked against the document the server serves: a request
//! the server accepted (a 2xx answer) must be one the document allows — its body, query, headers
//! and token — and every answer must be one the document lists for its operation and status, its
//! JSON body valid against that answer's schema (the success envelope, or `ErrorEnvelope`).
//! Answers are held to their schemas strictly: a field the document does not name is a mismatch
//! too, so the document cannot fall behind what the server sends.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use jsonschema::Validator;
use serde_json::{Map, Value, json};

/// One request and its answer, as `TestApp::send` saw them.
pub struct Exchange<'a> {
    pub method: &'a str,
    /// The full path, `/api/v1/…`, with its query.
    pub path_and_query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub token: bool,
    pub body: Option<&'a [u8]>,
    pub status: u16,
    pub content_type: &'a str,
    pub text: &'a str,
}

pub struct Contract {
    operations: Vec<Operation>,
    error_envelope: Validator,
}

struct Operation {
    /// `POST /api/v1/auth/register`, for messages.
    name: String,
    method: String,
    segments: Vec<String>,
    secured: bool,
    body: Option<BodyRule>,
    parameters: Vec<Parameter>,
    responses: BTreeMap<u16, Answer>,
}

struct BodyRule {
    required: bool,
    validator: Validator,
}

struct Parameter {
    name: String,
    location: String,
    required: bool,
    /// A number in the schema is a number in the header or query, not a string.
    numeric: bool,
    validator: Validator,
}

enum Answer {
    /// The envelope, or (with the right `Accept`) one of these other media types, unchecked.
    Json(Validator, Vec<String>),
    /// Not JSON (the docs page and its script, the sandbox checkout page): the body is not checked.
    Other(String),
}

/// The last document compiled: every server of a test run serves the same one, so each test
/// only compares the text it fetched.
static COMPILED: Mutex<Option<(String, Arc<Contract>)>> = Mutex::new(None);

/// The document the server at `address` (`http://…/api/v1`) serves, compiled. It is fetched from
/// another loopback address than the tests use, so the fetch does not count against the rate
/// limit a test may be about (limits are kept per client address).
pub async fn fetch(address: &str) -> Arc<Contract> {
    let client = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .expect("an HTTP client");
    let response = client.get(format!("{address}/openapi.json")).send().await.expect("the server serves its OpenAPI document");
    assert_eq!(response.status().as_u16(), 200, "GET /openapi.json");
    let text = response.text().await.expect("the OpenAPI document");
    let mut compiled = COMPILED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((known, contract)) = compiled.as_ref()
        && *known == text
    {
        return contract.clone();
    }
    let document: Value = serde_json::from_str(&text).expect("the OpenAPI document is JSON");
    let contract = Arc::new(Contract::of(&document).unwrap_or_else(|error| panic!("the served OpenAPI document: {error}")));
    *compiled = Some((text, contract.clone()));
    contract
}

impl Contract {
    fn of(document: &Value) -> Result<Self, String> {
        // Answers are checked strictly, requests as documented: a client may send less, and a
        // server that accepts more is no breach of the contract.
        let strict = strict(document);
        let mut operations = Vec::new();
        for (path, item) in document["paths"].as_object().ok_or("no paths")? {
            for (method, operation) in item.as_object().ok_or("a path item is not an object")? {
                let pointer = format!("/paths/{}/{method}", escape(path));
                operations.push(Operation::of(document, &strict, path, method, operation, &pointer)?);
            }
        }
        let error_envelope = validator(&strict, "/components/schemas/ErrorEnvelope")?;
        Ok(Self { operations, error_envelope })
    }

    /// Why the document does not describe this exchange, if it does not.
    pub fn check(&self, exchange: &Exchange) -> Result<(), String> {
        let (path, query) = exchange.path_and_query.split_once('?').unwrap_or((exchange.path_and_query, ""));
        let Some(operation) = self.operation(exchange.method, path) else {
            // No such operation: the answer must still be the contract's error.
            if (200..300).contains(&exchange.status) {
                return Err("the document has no such operation".into());
            }
            return json_valid(&self.error_envelope, exchange.text).map_err(|error| format!("the error answer (no operation): {error}"));
        };
        let named = |error: String| format!("operation `{}`: {error}", operation.name);
        if (200..300).contains(&exchange.status) {
            operation.check_request(exchange, query).map_err(|error| named(format!("the request: {error}")))?;
        }
        operation.check_answer(exchange).map_err(|error| named(format!("the answer: {error}")))
    }

    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let segments: Vec<&str> = path.split('/').collect();
        // A literal segment matches before a parameter does.
        self.operations
            .iter()
            .filter(|operation| operation.method.eq_ignore_ascii_case(method) && operation.matches(&segments))
            .max_by_key(|operation| operation.segments.iter().filter(|s| !s.starts_with('{')).count())
    }
}

impl Operation {
    fn of(document: &Value, strict: &Value, path: &str, method: &str, operation: &Value, pointer: &str) -> Result<Self, String> {
        let name = format!("{} {path}", method.to_ascii_uppercase());
        let body = match operation.get("requestBody") {
            None => None,
            Some(request_body) => {
                let schema = format!("{pointer}/requestBody/content/application~1json/schema");
                let validator = validator(document, &schema).map_err(|error| format!("{name}: {error}"))?;
                if let Some(example) = request_body["content"]["application/json"].get("example") {
                    errors(&validator, example).map_err(|error| format!("{name}: its example is no valid request: {error}"))?;
                }
                Some(BodyRule { required: request_body["required"] == true, validator })
            }
        };
        let mut parameters = Vec::new();
        for (index, parameter) in operation["parameters"].as_array().into_iter().flatten().enumerate() {
            let schema = &parameter["schema"];
            parameters.push(Parameter {
                name: parameter["name"].as_str().unwrap_or_default().to_owned(),
                location: parameter["in"].as_str().unwrap_or_default().to_owned(),
                required: parameter["required"] == true,
                numeric: matches!(schema["type"].as_str(), Some("integer" | "number")),
                validator: validator(document, &format!("{pointer}/parameters/{index}/schema")).map_err(|error| format!("{name}: {error}"))?,
            });
        }
        let mut responses = BTreeMap::new();
        for (status, response) in operation["responses"].as_object().ok_or_else(|| format!("{name}: no responses"))? {
            let status: u16 = status.parse().map_err(|_| format!("{name}: status {status}"))?;
            let answer = match response["content"].as_object() {
                // Switching to a WebSocket answers no body.
                None if status == 101 => Answer::Other(String::new()),
                None => return Err(format!("{name} {status}: no content")),
                Some(content) if content.contains_key("application/json") => {
                    let schema = format!("{pointer}/responses/{status}/content/application~1json/schema");
                    let validator = validator(strict, &schema).map_err(|error| format!("{name} {status}: {error}"))?;
                    if let Some(example) = content["application/json"].get("example") {
                        errors(&validator, example).map_err(|error| format!("{name}: its {status} example is no valid answer: {error}"))?;
                    }
                    Answer::Json(validator, content.keys().filter(|media_type| *media_type != "application/json").cloned().collect())
                }
                Some(content) => Answer::Other(content.keys().next().cloned().unwrap_or_default()),
            };
            responses.insert(status, answer);
        }
        Ok(Self {
            name,
            method: method.to_owned(),
            segments: path.split('/').map(str::to_owned).collect(),
            // `{}` among the schemes makes the token optional.
            secured: operation["security"]
                .as_array()
                .is_some_and(|schemes| !schemes.is_empty() && !schemes.iter().any(|scheme| scheme.as_object().is_some_and(|s| s.is_empty()))),
            body,
            parameters,
            responses,
        })
    }

    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self.segments.iter().zip(segments).all(|(template, segment)| {
                if template.starts_with('{') { !segment.is_empty() } else { template == segment }
            })
    }

    /// A request the server accepted must be one the document allows.
    fn check_request(&self, exchange: &Exchange, query: &str) -> Result<(), String> {
        if self.secured && !exchange.token {
            return Err("the document requires a token, yet the server accepted none".into());
        }
        let sent = exchange.body.filter(|body| !body.is_empty());
        match (&self.body, sent) {
            (Some(rule), Some(body)) => {
                let body: Value = serde_json::from_slice(body).map_err(|_| "the server accepted a body that is not JSON".to_owned())?;
                errors(&rule.validator, &body).map_err(|error| format!("the body does not match the document: {error}"))?;
            }
            (Some(rule), None) if rule.required => return Err("the document requires a body, yet none was sent".into()),
            // A body sent where the document describes none is ignored by the server.
            _ => {}
        }
        let pairs: Vec<(String, String)> = reqwest::Url::parse(&format!("http://localhost/?{query}"))
            .map(|url| url.query_pairs().into_owned().collect())
            .unwrap_or_default();
        for (key, _) in &pairs {
            if !self.parameters.iter().any(|p| p.location == "query" && p.name == *key) {
                return Err(format!("query parameter `{key}` is not in the document"));
            }
        }
        for parameter in &self.parameters {
            let value = match parameter.location.as_str() {
                "query" => pairs.iter().find(|(key, _)| *key == parameter.name).map(|(_, value)| value.as_str()),
                "header" => exchange.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(&parameter.name)).map(|(_, value)| *value),
                _ => continue,
            };
            match value {
                None if parameter.required => return Err(format!("{} `{}` is required by the document", parameter.location, parameter.name)),
                None => {}
                Some(value) => {
                    let value = if parameter.numeric { serde_json::from_str(value).unwrap_or(json!(value)) } else { json!(value) };
                    errors(&parameter.validator, &value)
                        .map_err(|error| format!("{} `{}` does not match the document: {error}", parameter.location, parameter.name))?;
                }
            }
        }
        Ok(())
    }

    fn check_answer(&self, exchange: &Exchange) -> Result<(), String> {
        let Some(answer) = self.responses.get(&exchange.status) else {
            let listed: Vec<String> = self.responses.keys().map(u16::to_string).collect();
            return Err(format!("status {} is not in the document (it lists {})", exchange.status, listed.join(", ")));
        };
        match answer {
            Answer::Json(validator, _) if exchange.content_type.starts_with("application/json") => json_valid(validator, exchange.text),
            Answer::Json(_, others) if others.iter().any(|media_type| exchange.content_type.starts_with(media_type.as_str())) => Ok(()),
            Answer::Json(..) => Err(format!("the document says JSON, the server sent `{}`", exchange.content_type)),
            Answer::Other(media_type) if exchange.content_type.starts_with(media_type.as_str()) => Ok(()),
            Answer::Other(media_type) => Err(format!("the document says `{media_type}`, the server sent `{}`", exchange.content_type)),
        }
    }
}

fn json_valid(validator: &Validator, text: &str) -> Result<(), String> {
    let body: Value = serde_json::from_str(text).map_err(|_| format!("the body is not JSON: {text:.200}"))?;
    let shown: String = text.chars().take(1000).collect();
    errors(validator, &body).map_err(|error| format!("the body does not match the document: {error}\nbody: {shown}"))
}

/// Every way `instance` fails `validator`, each at its JSON pointer.
fn errors(validator: &Validator, instance: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| {
            let at = error.instance_path().as_str();
            format!("at `{}`: {error}", if at.is_empty() { "/" } else { at })
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
}

/// A validator for the schema at `pointer` in `document`. The schema is reached by a `$ref` from
/// the document's root, so its own `$ref`s into `#/components/schemas` resolve in the document.
fn validator(document: &Value, pointer: &str) -> Result<Validator, String> {
    let mut root = document.clone();
    root["$ref"] = json!(format!("#{}", fragment(pointer)));
    jsonschema::draft202012::options().should_validate_formats(true).build(&root).map_err(|error| format!("{pointer}: {error}"))
}

/// A path as a JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer as a URI fragment: what a URI may not hold (the braces of path templates),
/// percent-encoded.
fn fragment(pointer: &str) -> String {
    let mut fragment = String::new();
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"/~-._!$&'()*+,;=:@".contains(&byte) {
            fragment.push(byte as char);
        } else {
            fragment.push_str(&format!("%{byte:02X}"));
        }
    }
    fragment
}

/// `document` with every object schema of its components and answers closed to properties it
/// does not name (unless it says what else it allows).
fn strict(document: &Value) -> Value {
    let mut document = document.clone();
    if let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        schemas.values_mut().for_each(close);
    }
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        let operations = paths.values_mut().filter_map(Value::as_object_mut).flat_map(Map::values_mut);
        let responses = operations.filter_map(|operation| operation.get_mut("responses")).filter_map(Value::as_object_mut).flat_map(Map::values_mut);
        for response in responses {
            if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                content.values_mut().filter_map(|media| media.get_mut("schema")).for_each(close);
            }
        }
    }
    document
}

/// Closes one schema and the schemas inside it.
fn close(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    if object.contains_key("properties") && !object.contains_key("additionalProperties") && !object.contains_key("unevaluatedProperties") {
        object.insert("unevaluatedProperties".into(), json!(false));
    }
    for (keyword, inner) in object.iter_mut() {
        match keyword.as_str() {
            "properties" | "patternProperties" | "$defs" => inner.as_object_mut().into_iter().flat_map(Map::values_mut).for_each(close),
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => inner.as_array_mut().into_iter().flatten().for_each(close),
            "items" | "additionalProperties" | "not" | "if" | "then" | "else" => close(inner),
            _ => {}
        }
    }
}
