//! The route table and the OpenAPI 3.1 document built from it. A route cannot be registered
//! without its documentation, so the spec cannot miss one; schemas come from the request and
//! response types through schemars, requests as the server reads them and answers as it writes
//! them, with the types' doc comments and examples. Each route also declares the projections it
//! reads, which is all `X-Min-Position` waits for. The HTTP tests hold the server to this
//! document: every request they make and every answer they get is checked against it.

use std::collections::{BTreeSet, HashMap};

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, Route, Scope, web};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::envelope::Pagination;
use crate::error::{ApiError, FieldErrors};
use crate::extract::REQUIRED;

/// Builds one schema from a generator: a request type's as the server reads it, a response
/// type's as the server writes it.
type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// What a successful answer carries.
#[derive(Clone, Copy)]
enum Answer {
    /// The success envelope, its `data` described by `Op::data`.
    Envelope,
    /// A document of this media type, not enveloped: the docs page, its script, this spec.
    Content(&'static str),
    /// 101 Switching Protocols: a WebSocket.
    Upgrade,
}

struct Body {
    schema: SchemaFn,
    required: bool,
}

/// What the spec says of one operation.
pub struct Op {
    summary: &'static str,
    description: Option<&'static str>,
    tag: &'static str,
    auth: bool,
    /// A token is optional: with one, per-user fields are filled in (and a bad one is 401).
    token_optional: bool,
    idempotent: bool,
    /// The key is honoured but only some requests need it (a paid room's registration).
    key_optional: bool,
    body: Option<Body>,
    query: Option<SchemaFn>,
    data: Option<SchemaFn>,
    answer: Answer,
    alternative: Option<&'static str>,
    success: u16,
    errors: &'static [u16],
    path_params: &'static [&'static str],
    reads: &'static [&'static str],
}

impl Op {
    /// `tag` is one of `TAGS`.
    pub fn new(tag: &'static str, summary: &'static str) -> Self {
        Self {
            summary,
            description: None,
            tag,
            auth: false,
            token_optional: false,
            idempotent: false,
            key_optional: false,
            body: None,
            query: None,
            data: None,
            answer: Answer::Envelope,
            alternative: None,
            success: 200,
            errors: &[],
            path_params: &[],
            reads: &[],
        }
    }
    /// What the summary line has no room for, in Markdown.
    pub fn description(mut self, text: &'static str) -> Self {
        self.description = Some(text);
        self
    }
    /// The projections (by `NAME`) whose tables the route reads: `X-Min-Position` waits for
    /// these only.
    pub fn reads(mut self, projectors: &'static [&'static str]) -> Self {
        self.reads = projectors;
        self
    }
    pub fn auth(mut self) -> Self {
        self.auth = true;
        self
    }
    /// Anyone may call the route; a caller with a token gets their own fields filled in.
    pub fn token_optional(mut self) -> Self {
        self.token_optional = true;
        self
    }
    /// The route requires an `Idempotency-Key`.
    /// Takes an `Idempotency-Key` that only the money-moving requests need.
    pub fn idempotent_when_paid(mut self) -> Self {
        self.key_optional = true;
        self.idempotent()
    }

    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
    /// A JSON body the route requires.
    pub fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(Body { schema: |g| g.subschema_for::<T>(), required: true });
        self
    }
    /// A JSON body the route reads when one is sent, and does without otherwise.
    pub fn optional_body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(Body { schema: |g| g.subschema_for::<T>(), required: false });
        self
    }
    /// The query parameters: the fields of `T`, each required unless the route does without it.
    pub fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some(|g| g.root_schema_for::<T>());
        self
    }
    /// The success envelope's `data`. Without it, `data` is an empty object.
    pub fn data<T: JsonSchema>(mut self) -> Self {
        self.data = Some(|g| g.subschema_for::<T>());
        self
    }
    /// The route answers a document of this media type instead of the envelope.
    pub fn content(mut self, media_type: &'static str) -> Self {
        self.answer = Answer::Content(media_type);
        self
    }
    /// The envelope, or this media type when the request's `Accept` asks for it.
    pub fn or_content(mut self, media_type: &'static str) -> Self {
        self.alternative = Some(media_type);
        self
    }
    /// The route upgrades to a WebSocket.
    pub fn upgrade(mut self) -> Self {
        self.answer = Answer::Upgrade;
        self.success = 101;
        self
    }
    pub fn created(mut self) -> Self {
        self.success = 201;
        self
    }
    /// The error statuses of the route itself. Those of the conventions are added to them: 401
    /// with a token, 400 and 422 with an `Idempotency-Key` or a body, 413 with a body, 400 for a
    /// GET's `X-Min-Position` and 503 while the projections it reads lag, 429 and 500 for all.
    pub fn errors(mut self, statuses: &'static [u16]) -> Self {
        self.errors = statuses;
        self
    }
    pub fn path_params(mut self, names: &'static [&'static str]) -> Self {
        self.path_params = names;
        self
    }

    /// Every error status the route can answer: its own and the conventions'.
    fn error_statuses(&self, method: &Method) -> BTreeSet<u16> {
        let mut statuses: BTreeSet<u16> = self.errors.iter().copied().collect();
        statuses.extend([429, 500]);
        if self.auth || self.token_optional {
            statuses.insert(401);
        }
        // Idempotent routes read the body even without a schema for it: its hash is the key's.
        if self.idempotent || self.body.is_some() {
            statuses.extend([400, 413, 422]);
        }
        if *method == Method::GET {
            statuses.insert(400);
            if !self.reads.is_empty() {
                statuses.insert(503);
            }
        }
        statuses
    }
}

struct Documented {
    method: Method,
    path: &'static str,
    op: Op,
}

/// What the middleware needs to know of a route: whether it needs a token, what it reads.
#[derive(Clone, Copy, Debug)]
pub struct RouteInfo {
    pub auth: bool,
    pub reads: &'static [&'static str],
}

/// Routes by method and full path pattern (as actix matches it).
#[derive(Clone, Default)]
pub struct RouteTable(HashMap<(Method, String), RouteInfo>);

impl RouteTable {
    pub fn get(&self, method: &Method, pattern: &str) -> Option<RouteInfo> {
        self.0.get(&(method.clone(), pattern.to_owned())).copied()
    }
}

pub const PREFIX: &str = "/api/v1";

/// Collects routes into actix resources and their documentation into the spec, in one call each.
#[derive(Default)]
pub struct Routes {
    documented: Vec<Documented>,
    routes: Vec<(&'static str, Route)>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add<F, Args>(&mut self, method: Method, path: &'static str, handler: F, op: Op)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.routes.push((path, web::method(method.clone()).to(handler)));
        self.documented.push(Documented { method, path, op });
    }

    /// The routes under `scope`: one resource per path, answering 405 with `Allow` to any other
    /// method.
    pub fn into_scope(self, mut scope: Scope) -> Scope {
        let mut paths: Vec<&'static str> = Vec::new();
        let mut by_path: HashMap<&'static str, Vec<Route>> = HashMap::new();
        for (path, route) in self.routes {
            if !by_path.contains_key(path) {
                paths.push(path);
            }
            by_path.entry(path).or_default().push(route);
        }
        for path in paths {
            let allow: Vec<&str> = self.documented.iter().filter(|d| d.path == path).map(|d| d.method.as_str()).collect();
            let allow = allow.join(", ");
            let mut resource = web::resource(path).default_service(web::to(move || {
                let allow = allow.clone();
                async move { Err::<actix_web::HttpResponse, _>(crate::error::ApiError::MethodNotAllowed { allow }) }
            }));
            for route in by_path.remove(path).unwrap_or_default() {
                resource = resource.route(route);
            }
            scope = scope.service(resource);
        }
        scope
    }

    /// `(METHOD, /api/v1/path)` of every route, for tests.
    pub fn list(&self) -> Vec<(String, String)> {
        self.documented.iter().map(|d| (d.method.to_string(), format!("{PREFIX}{}", d.path))).collect()
    }

    pub fn table(&self) -> RouteTable {
        RouteTable(
            self.documented
                .iter()
                .map(|d| ((d.method.clone(), format!("{PREFIX}{}", d.path)), RouteInfo { auth: d.op.auth, reads: d.op.reads }))
                .collect(),
        )
    }

    pub fn document(&self) -> Value {
        let mut generators = Generators::new();
        let mut paths: Map<String, Value> = Map::new();
        for documented in &self.documented {
            let mut operation = documented.op.operation(&documented.method, &mut generators);
            operation["operationId"] = json!(operation_id(&documented.method, documented.path));
            let entry = paths.entry(format!("{PREFIX}{}", documented.path)).or_insert_with(|| json!({}));
            entry[documented.method.as_str().to_ascii_lowercase()] = operation;
        }
        let tags: Vec<Value> = TAGS
            .iter()
            .map(|(name, title, description)| json!({ "name": name, "x-displayName": title, "description": description }))
            .collect();
        json!({
            "openapi": "3.1.0",
            "info": { "title": "iSpeaker Live API", "version": env!("CARGO_PKG_VERSION"), "description": CONVENTIONS },
            "servers": [{ "url": "/" }],
            "tags": tags,
            "paths": paths,
            "components": {
                "schemas": generators.into_components(),
                "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "The token registration or login answers; logout revokes it." } }
            }
        })
    }
}

/// The groups operations are shown in, in this order: name (`Op::new`'s tag), title, what it is
/// about.
pub const TAGS: &[(&str, &str, &str)] = &[
    ("auth", "Auth", "Registration, login, logout and the current user. Registration and login answer a bearer token, valid for 24 hours."),
    (
        "wallet",
        "Wallet",
        "The caller's balances and transactions, top-ups through a payment provider, and withdrawals (speakers). \
         Money moves only by appending events: a command answers `meta.position`, and a read with that \
         position in `X-Min-Position` sees it.",
    ),
    (
        "payments",
        "Payments",
        "What payment providers call: their signed notifications. The built-in `sandbox` provider and its \
         checkout page are for development and tests.",
    ),
    (
        "catalogue",
        "Catalogue",
        "Categories, courses with their sections and lessons, and books. Speakers write their own listings; anyone reads \
         published ones, searching Arabic and English alike. With a token, `is_enrolled` / `is_owned` and the content the \
         caller may open are filled in.",
    ),
    (
        "buying",
        "Buying",
        "The cart, checkout from the wallet (one atomic change, or none), orders, what the caller owns, and the speaker's \
         sales. Prices include 15% VAT.",
    ),
    (
        "invoices",
        "Invoices",
        "Simplified tax invoices for every paid sale and credit notes for every paid refund, numbered per year without gaps \
         (`INV-2026-000001`, `CN-2026-000001`), each with the ZATCA phase-1 QR code and a printable bilingual document.",
    ),
    (
        "admin",
        "Admin",
        "What only an admin may do or see: categories, refunds, approving or rejecting a speaker's withdrawal, the VAT report \
         and the digest of the event chain.",
    ),
    (
        "rooms",
        "Live rooms",
        "Hosts schedule live rooms, free or paid; students register (paying from the wallet like any purchase), and the host and \
         registrants get tokens for the video call. Rooms start and complete by themselves when their times come.",
    ),
    (
        "consultations",
        "Consultations",
        "Speakers open weekly availabilities on their own time zone; students book open slots (in UTC), paying from the wallet. \
         Either party cancels before the start (a full refund); the speaker completes; both rate.",
    ),
    (
        "social",
        "Social",
        "Profiles, follows (a private profile answers requests), posts, comments, reactions, shares, reports and the home feed. A \
         private profile's posts are for its accepted followers: to anyone else they are 404, wherever they would show.",
    ),
    (
        "gifts",
        "Gifts",
        "An admin-managed catalogue of gifts; sending one is a purchase from the wallet with an invoice, and the receiver earns it \
         (pending, like a sale).",
    ),
    (
        "chat",
        "Chat",
        "One conversation per pair of users, seen only by the two: messages with replies, deletion by the sender, read markers \
         and unread counts. A user someone blocked cannot message them.",
    ),
    (
        "notifications",
        "Notifications",
        "What others did that concerns me (follows, requests, comments, replies, reactions, gifts, messages, enrollments, \
         bookings, cancelled rooms, withdrawal decisions) and the receipts of my purchases, never what I did myself otherwise, \
         each written in the request's language; read one or all.",
    ),
    ("realtime", "Real time", crate::realtime::PROTOCOL),
    ("health", "Health and docs", "The service's state, this document and the page that renders it."),
];

/// The conventions every route follows, shown before the operations.
const CONVENTIONS: &str = r#"The HTTP API of iSpeaker Live, for the web, mobile and admin clients. Every path is under `/api/v1`.

## Conventions

- **Envelopes.** Every JSON answer is an envelope. A success is `{"success": true, "message": "…", "data": …, "meta": {…}}`;
  lists add `meta.pagination`. An error is `{"success": false, "message": "…", "error": {"code": "snake_case_code", "details": {…}}}`
  with its HTTP status; a 422 names each invalid field with its reasons in `error.details.fields`.
- **Language.** `Accept-Language: ar` or `en` (the default) chooses the language of `message` and of the field reasons.
- **Authentication.** `Authorization: Bearer <token>`, with the token registration or login answers (24 hours). Logout revokes it.
- **Idempotency-Key.** Money-moving POSTs (top-ups, withdrawals and their approval or rejection) require the header, 1 to 255
  characters. The same key with the same body answers the first response again, with `Idempotent-Replayed: true`; with
  another body, 422. Keys belong to the caller and are kept at least 24 hours.
- **Read your writes.** Every command answers `meta.position`, the global position of its last event. A GET with
  `X-Min-Position: N` answers once the read models it uses include position N, waiting a few seconds at most
  (then 503 `stale_read` with `Retry-After`).
- **Money** is a string with two decimals, in SAR: `"115.00"`, never a JSON number. Timestamps are RFC 3339 in UTC; ids are UUIDs.
- **Limits.** Requests are rate limited per user (per address without a token), more strictly on login and registration:
  429 with `Retry-After`. A body is at most 64 KiB."#;

/// The two schemars generators of the document: request bodies and queries as the server reads
/// them (an `Option` field may be left out), answers as it writes them (every field is there,
/// `null` when empty). With one generator for both, an optional request field would be required.
struct Generators {
    request: SchemaGenerator,
    response: SchemaGenerator,
}

impl Generators {
    fn new() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas".into());
        Self { request: settings.clone().for_deserialize().into_generator(), response: settings.for_serialize().into_generator() }
    }

    /// The named schemas of both generators, and the envelopes'. A type both read and write
    /// must be described the same way in both directions: a name stands for one schema.
    fn into_components(mut self) -> Map<String, Value> {
        let pagination = self.response.subschema_for::<Pagination>().to_value();
        let mut schemas = self.response.take_definitions(true);
        for (name, schema) in self.request.take_definitions(true) {
            if let Some(written) = schemas.get(&name) {
                assert_eq!(written, &schema, "{name} is read and written differently: give the request its own type");
            }
            schemas.insert(name, schema);
        }
        let position = json!({ "type": "integer", "minimum": 0, "examples": [42],
            "description": "The global position of the command's last event: send it as `X-Min-Position` to read this write." });
        schemas.insert("Meta".into(), json!({
            "type": "object",
            "description": "What the answer says besides its data.",
            "properties": { "position": position }
        }));
        schemas.insert("PageMeta".into(), json!({
            "type": "object",
            "description": "What a list's answer says besides its data: which page it is, and for a cursor list (the feed) where \
                            the next page starts (absent at the end).",
            "required": ["pagination"],
            "properties": { "position": position, "pagination": pagination,
                            "next_cursor": { "type": "string", "examples": ["1042"], "description": "Send it as `cursor` for the next page." } }
        }));
        schemas.insert("ErrorEnvelope".into(), json!({
            "type": "object",
            "required": ["success", "message", "error"],
            "properties": {
                "success": { "type": "boolean", "const": false },
                "message": { "type": "string", "description": "For people, in the request's language." },
                "error": {
                    "type": "object",
                    "required": ["code", "details"],
                    "properties": {
                        "code": { "type": "string", "description": "For programs: `validation_failed`, `insufficient_funds`, `stale_read`…", "examples": ["validation_failed"] },
                        "details": {
                            "type": "object",
                            "description": "More about the error; which keys depends on the code.",
                            "additionalProperties": true,
                            "properties": {
                                "fields": { "type": "object", "description": "422: each invalid field with its reasons.",
                                    "additionalProperties": { "type": "array", "items": { "type": "string" } },
                                    "examples": [{ "amount": ["must be a positive amount with at most two decimals"] }] },
                                "retry_after_seconds": { "type": "integer", "minimum": 0, "description": "429: when to try again." },
                                "min_position": { "type": "integer", "minimum": 0, "description": "503 `stale_read`: the position asked for." }
                            }
                        }
                    }
                }
            }
        }));
        schemas
    }
}

impl Op {
    fn operation(&self, method: &Method, generators: &mut Generators) -> Value {
        let mut operation = json!({
            "tags": [self.tag],
            "summary": self.summary,
            "parameters": self.parameters(method, generators),
            "responses": self.responses(method, generators),
        });
        if let Some(description) = self.description {
            operation["description"] = json!(description);
        }
        if self.auth {
            operation["security"] = json!([{ "bearer": [] }]);
        } else if self.token_optional {
            operation["security"] = json!([{}, { "bearer": [] }]);
        }
        if let Some(body) = &self.body {
            let schema = (body.schema)(&mut generators.request).to_value();
            let mut media = json!({ "schema": schema });
            if let Some(example) = example_of(&schema, generators.request.definitions()) {
                media["example"] = example;
            }
            operation["requestBody"] = json!({ "required": body.required, "content": { "application/json": media } });
        }
        operation
    }

    fn parameters(&self, method: &Method, generators: &mut Generators) -> Vec<Value> {
        let mut parameters: Vec<Value> = self
            .path_params
            .iter()
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        if let Some(query) = self.query {
            parameters.extend(query_parameters(&query(&mut generators.request)));
        }
        if self.idempotent {
            parameters.push(json!({ "name": "Idempotency-Key", "in": "header", "required": !self.key_optional,
                "description": "Any unique string, e.g. a UUID. A retry with the same key and body answers the first response again.",
                "schema": { "type": "string", "minLength": 1, "maxLength": 255 }, "example": "5f0c6a52-8f0e-4c47-9d7e-0b1f1c8f2a11" }));
        }
        // Only reads wait for the read models; a command is never stale.
        if *method == Method::GET {
            parameters.push(json!({ "name": "X-Min-Position", "in": "header", "required": false,
                "description": "Answer only once the read models include this global position (a command's `meta.position`).",
                "schema": { "type": "integer", "minimum": 0 } }));
        }
        // Any Accept-Language a browser sends is understood; the first of ar or en it prefers wins.
        parameters.push(json!({ "name": "Accept-Language", "in": "header", "required": false,
            "description": "The language of `message`: the first of `ar` or `en` preferred (English by default), e.g. `ar` or `ar-SA, en;q=0.5`.",
            "schema": { "type": "string" }, "example": "ar" }));
        parameters
    }

    fn responses(&self, method: &Method, generators: &mut Generators) -> Map<String, Value> {
        let mut responses = Map::new();
        let mut success = match self.answer {
            Answer::Envelope => {
                let data = match self.data {
                    Some(data) => data(&mut generators.response).to_value(),
                    None => json!({ "type": "object", "maxProperties": 0, "description": "Empty: the message says it all." }),
                };
                // Lists are paginated (the conventions), and say so in `meta.pagination`.
                let meta = if data["type"] == "array" { "#/components/schemas/PageMeta" } else { "#/components/schemas/Meta" };
                json!({ "description": if self.success == 201 { "Created" } else { "Success" },
                    "content": { "application/json": { "schema": {
                        "type": "object", "required": ["success", "message", "data", "meta"],
                        "properties": {
                            "success": { "type": "boolean", "const": true },
                            "message": { "type": "string", "description": "For people, in the request's language.", "examples": ["OK"] },
                            "data": data,
                            "meta": { "$ref": meta } } } } } })
            }
            Answer::Content(media_type) => {
                let schema = if media_type == "application/json" { json!({ "type": "object" }) } else { json!({ "type": "string" }) };
                json!({ "description": "Success", "content": { media_type: { "schema": schema } } })
            }
            Answer::Upgrade => json!({ "description": "Switching Protocols: the WebSocket is open." }),
        };
        if let Some(media_type) = self.alternative {
            success["content"][media_type] = json!({ "schema": { "type": "string" } });
        }
        responses.insert(self.success.to_string(), success);
        // A read's 503 is most often a stale read model; a command's, a dependency that is down.
        let stale = *method == Method::GET && !self.reads.is_empty();
        for status in self.error_statuses(method) {
            let mut response = json!({ "description": status_text(status),
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorEnvelope" },
                                                   "example": error_example(status, stale) } } });
            if matches!(status, 429 | 503) {
                response["headers"] = json!({ "Retry-After": { "description": "Seconds to wait before trying again.",
                    "schema": { "type": "integer", "minimum": 1 } } });
            }
            responses.insert(status.to_string(), response);
        }
        responses
    }
}

/// A stable name for generated clients and the reference's links: the method and the path's
/// words, `post_admin_withdrawals_id_approve`.
fn operation_id(method: &Method, path: &str) -> String {
    let words = path.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty());
    std::iter::once(method.as_str().to_ascii_lowercase()).chain(words.map(str::to_owned)).collect::<Vec<_>>().join("_")
}

/// A query type's fields as query parameters. A parameter is left out rather than sent empty,
/// so an optional one is not also `null`.
fn query_parameters(schema: &Schema) -> Vec<Value> {
    let required: Vec<Value> = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            let description = property.as_object_mut().and_then(|p| p.remove("description"));
            if let Some(Value::Array(types)) = property.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    property["type"] = only.clone();
                }
            }
            let mut parameter = json!({ "name": name, "in": "query", "required": required.contains(&json!(name)), "schema": property });
            if let Some(description) = description {
                parameter["description"] = description;
            }
            parameter
        })
        .collect()
}

/// A request body's example, from the first example of each of its fields (`#[schemars(example
/// = …)]`); none unless every required field has one.
fn example_of(schema: &Value, definitions: &Map<String, Value>) -> Option<Value> {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => definitions.get(reference.rsplit('/').next()?)?,
        None => schema,
    };
    let properties = schema.get("properties")?.as_object()?;
    let example: Map<String, Value> = properties
        .iter()
        .filter_map(|(name, property)| Some((name.clone(), property.get("examples")?.as_array()?.first()?.clone())))
        .collect();
    let required = schema.get("required").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let complete = required.iter().filter_map(Value::as_str).all(|name| example.contains_key(name));
    (complete && !example.is_empty()).then_some(Value::Object(example))
}

/// The answer of the most common error of a status, as the reference shows it.
fn error_example(status: u16, stale: bool) -> Value {
    let (error, details) = match status {
        400 => (ApiError::MalformedJson(String::new()), json!({})),
        401 => (ApiError::Unauthorized, json!({})),
        403 => (ApiError::Forbidden, json!({})),
        404 => (ApiError::NotFound, json!({})),
        409 => (ApiError::Contention, json!({})),
        413 => (ApiError::PayloadTooLarge, json!({})),
        422 => {
            let fields = FieldErrors::from([("email".to_owned(), vec![REQUIRED.code])]);
            (ApiError::Validation(fields), json!({ "fields": { "email": [REQUIRED.en] } }))
        }
        429 => (ApiError::RateLimited { retry_after_seconds: 30 }, json!({ "retry_after_seconds": 30 })),
        503 if stale => (ApiError::StaleRead(42), json!({ "min_position": 42 })),
        503 => (ApiError::Unavailable(String::new()), json!({})),
        _ => (ApiError::internal(""), json!({})),
    };
    json!({ "success": false, "message": error.text().en, "error": { "code": error.code(), "details": details } })
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "Malformed request or missing header",
        401 => "Missing, invalid, expired or revoked token (or signature)",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict: a state that does not allow it, a duplicate, or a concurrent change",
        413 => "The body is larger than 64 KiB",
        422 => "Validation failed, or an Idempotency-Key reused with another body",
        429 => "Rate limited; see Retry-After",
        503 => "A dependency is down, or the read models are behind X-Min-Position; see Retry-After",
        _ => "Internal error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        let mut routes = Routes::new();
        crate::routes::table(&mut routes);
        routes.document()
    }

    fn operations(document: &Value) -> Vec<(String, &Value)> {
        let paths = document["paths"].as_object().into_iter().flatten();
        paths.flat_map(|(path, item)| item.as_object().into_iter().flatten().map(move |(method, op)| (format!("{method} {path}"), op))).collect()
    }

    fn required(schema: &Value) -> Vec<&str> {
        schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect()
    }

    /// A client may leave out what the server does without: such fields are not required.
    #[test]
    fn optional_request_fields_and_query_parameters_are_not_required() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        assert!(!required(&schemas["RegisterRequest"]).contains(&"language"), "{}", schemas["RegisterRequest"]);
        assert!(required(&schemas["RegisterRequest"]).contains(&"email"), "{}", schemas["RegisterRequest"]);
        assert!(!required(&schemas["RejectRequest"]).contains(&"reason"), "{}", schemas["RejectRequest"]);
        assert!(!required(&schemas["SandboxNotification"]).contains(&"amount"), "{}", schemas["SandboxNotification"]);
        assert!(required(&schemas["UserView"]).contains(&"created_at"), "{}", schemas["UserView"]);
        let transactions = &document["paths"]["/api/v1/wallet/transactions"]["get"];
        for name in ["page", "per_page", "category"] {
            let parameter = transactions["parameters"].as_array().into_iter().flatten().find(|p| p["name"] == name);
            let parameter = parameter.unwrap_or_else(|| panic!("no query parameter {name}"));
            assert_eq!(parameter["in"], "query");
            assert_eq!(parameter["required"], false, "{parameter}");
        }
        let reject = &document["paths"]["/api/v1/admin/withdrawals/{id}/reject"]["post"];
        assert_eq!(reject["requestBody"]["required"], false, "the reason, and so the body, may be left out");
    }

    #[test]
    fn headers_are_documented_where_they_apply() {
        let document = document();
        for (name, operation) in operations(&document) {
            let header = |header: &str| operation["parameters"].as_array().into_iter().flatten().find(|p| p["name"] == header && p["in"] == "header");
            assert_eq!(header("X-Min-Position").is_some(), name.starts_with("get "), "X-Min-Position on {name}");
            let money_moving = ["/wallet/top-ups", "/wallet/withdrawals", "withdrawals/{id}/approve", "withdrawals/{id}/reject", "/cart/checkout", "/refund", "/consultations/bookings", "/gifts/send"].iter().any(|path| name.ends_with(path));
            assert_eq!(header("Idempotency-Key").is_some_and(|h| h["required"] == true), money_moving, "Idempotency-Key on {name}");
        }
    }

    #[test]
    fn every_operation_is_tagged_and_every_request_body_has_an_example() {
        let document = document();
        let declared: Vec<&str> = TAGS.iter().map(|(name, _, _)| *name).collect();
        for (name, operation) in operations(&document) {
            let tag = operation["tags"][0].as_str().unwrap_or_default();
            assert!(declared.contains(&tag), "{name}: tag {tag} is not in TAGS");
            if let Some(body) = operation.get("requestBody") {
                assert!(body["content"]["application/json"]["example"].is_object(), "{name}: the request body has no example");
            }
            for status in operation["responses"].as_object().into_iter().flatten().map(|(status, _)| status) {
                // 101: the WebSocket's upgrade.
                assert!(status.parse::<u16>().is_ok_and(|s| s == 101 || (200..600).contains(&s)), "{name}: status {status}");
            }
        }
        let mut ids: Vec<&str> = operations(&document).iter().filter_map(|(_, op)| op["operationId"].as_str()).collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids repeat");
        assert_eq!(count, operations(&document).len(), "an operation without an id");
        for tag in declared {
            assert!(operations(&document).iter().any(|(_, op)| op["tags"][0] == tag), "no operation is tagged {tag}");
        }
    }

    #[test]
    fn error_statuses_follow_the_conventions() {
        let document = document();
        let statuses = |path: &str, method: &str| -> Vec<String> {
            document["paths"][path][method]["responses"].as_object().into_iter().flatten().map(|(status, _)| status.clone()).collect()
        };
        let wallet = statuses("/api/v1/wallet", "get");
        for status in ["200", "400", "401", "429", "500", "503"] {
            assert!(wallet.contains(&status.to_owned()), "GET /wallet lacks {status}: {wallet:?}");
        }
        let top_up = statuses("/api/v1/wallet/top-ups", "post");
        for status in ["201", "400", "401", "409", "413", "422"] {
            assert!(top_up.contains(&status.to_owned()), "POST /wallet/top-ups lacks {status}: {top_up:?}");
        }
        assert!(!statuses("/api/v1/auth/register", "post").contains(&"401".to_owned()), "registration needs no token");
    }
}
