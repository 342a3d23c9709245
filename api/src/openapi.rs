//! The route table and the OpenAPI 3.1 document built from it. A route cannot be registered
//! without its documentation, so the spec cannot miss one; schemas come from the request and
//! response types through schemars.

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, Scope, web};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

/// What the spec says of one operation.
pub struct Op {
    summary: &'static str,
    tag: &'static str,
    auth: bool,
    idempotent: bool,
    body: Option<fn(&mut SchemaGenerator) -> Schema>,
    query: Option<fn(&mut SchemaGenerator) -> Schema>,
    data: Option<fn(&mut SchemaGenerator) -> Schema>,
    success: u16,
    errors: &'static [u16],
    path_params: &'static [&'static str],
}

impl Op {
    pub fn new(tag: &'static str, summary: &'static str) -> Self {
        Self { summary, tag, auth: false, idempotent: false, body: None, query: None, data: None, success: 200, errors: &[], path_params: &[] }
    }
    pub fn auth(mut self) -> Self {
        self.auth = true;
        self
    }
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }
    pub fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(|g| g.subschema_for::<T>());
        self
    }
    pub fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some(|g| g.root_schema_for::<T>());
        self
    }
    pub fn data<T: JsonSchema>(mut self) -> Self {
        self.data = Some(|g| g.subschema_for::<T>());
        self
    }
    pub fn created(mut self) -> Self {
        self.success = 201;
        self
    }
    pub fn errors(mut self, statuses: &'static [u16]) -> Self {
        self.errors = statuses;
        self
    }
    pub fn path_params(mut self, names: &'static [&'static str]) -> Self {
        self.path_params = names;
        self
    }
}

struct Documented {
    method: Method,
    path: &'static str,
    op: Op,
}

/// Collects routes into an actix scope and their documentation into the spec, in one call each.
pub struct Routes {
    scope: Option<Scope>,
    documented: Vec<Documented>,
}

impl Routes {
    pub fn for_scope(scope: Scope) -> Self {
        Self { scope: Some(scope), documented: Vec::new() }
    }

    pub fn for_docs() -> Self {
        Self { scope: None, documented: Vec::new() }
    }

    pub fn add<F, Args>(&mut self, method: Method, path: &'static str, handler: F, op: Op)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        if let Some(scope) = self.scope.take() {
            self.scope = Some(scope.route(path, web::method(method.clone()).to(handler)));
        }
        self.documented.push(Documented { method, path, op });
    }

    pub fn into_scope(self) -> Scope {
        self.scope.expect("routes collected for a scope")
    }

    /// `(METHOD, /api/v1/path)` of every route, for tests.
    pub fn list(&self) -> Vec<(String, String)> {
        self.documented.iter().map(|d| (d.method.to_string(), format!("/api/v1{}", d.path))).collect()
    }

    pub fn document(&self) -> Value {
        let mut generator = SchemaSettings::draft2020_12()
            .with(|s| s.definitions_path = "/components/schemas".into())
            .for_serialize()
            .into_generator();
        let mut paths: Map<String, Value> = Map::new();
        for documented in &self.documented {
            let op = &documented.op;
            let path = format!("/api/v1{}", documented.path);
            let mut parameters: Vec<Value> = op
                .path_params
                .iter()
                .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
                .collect();
            if op.idempotent {
                parameters.push(json!({ "name": "Idempotency-Key", "in": "header", "required": true,
                    "schema": { "type": "string", "minLength": 1, "maxLength": 255 } }));
            }
            if documented.method == Method::GET {
                parameters.push(json!({ "name": "X-Min-Position", "in": "header", "required": false,
                    "description": "Answer only once the read models include this global position.",
                    "schema": { "type": "integer", "minimum": 0 } }));
            }
            parameters.push(json!({ "name": "Accept-Language", "in": "header", "required": false,
                "schema": { "type": "string", "enum": ["en", "ar"] } }));
            if let Some(query) = op.query {
                let schema = query(&mut generator);
                let required: Vec<Value> = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
                if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                    for (name, property) in properties {
                        parameters.push(json!({ "name": name, "in": "query", "required": required.contains(&json!(name)), "schema": property }));
                    }
                }
            }
            let data = op.data.map(|data| data(&mut generator).to_value()).unwrap_or(Value::Null);
            let mut responses = Map::new();
            responses.insert(
                op.success.to_string(),
                json!({ "description": "Success", "content": { "application/json": { "schema": {
                    "type": "object", "required": ["success", "message", "data"],
                    "properties": { "success": { "const": true }, "message": { "type": "string" }, "data": data,
                                    "meta": { "type": "object" } } } } } }),
            );
            for status in op.errors.iter().chain(&[429, 500]) {
                responses.insert(status.to_string(), json!({ "description": status_text(*status),
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } } }));
            }
            let mut operation = json!({
                "tags": [op.tag], "summary": op.summary, "parameters": parameters, "responses": responses,
            });
            if op.auth {
                operation["security"] = json!([{ "bearer": [] }]);
            }
            if let Some(body) = op.body {
                operation["requestBody"] =
                    json!({ "required": true, "content": { "application/json": { "schema": body(&mut generator).to_value() } } });
            }
            let entry = paths.entry(path).or_insert_with(|| json!({}));
            entry[documented.method.as_str().to_ascii_lowercase()] = operation;
        }
        let mut schemas = generator.take_definitions(true);
        schemas.insert("ErrorEnvelope".into(), json!({
            "type": "object", "required": ["success", "message", "error"],
            "properties": {
                "success": { "const": false }, "message": { "type": "string" },
                "error": { "type": "object", "required": ["code", "details"],
                           "properties": { "code": { "type": "string" }, "details": { "type": "object" } } }
            }
        }));
        json!({
            "openapi": "3.1.0",
            "info": { "title": "iSpeaker Live API", "version": env!("CARGO_PKG_VERSION") },
            "servers": [{ "url": "/" }],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } }
            }
        })
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "Malformed request or missing header",
        401 => "Missing, invalid, expired or revoked token (or signature)",
        403 => "Not allowed",
        404 => "Not found",
        409 => "Conflict",
        422 => "Validation failed, or an Idempotency-Key reused with another body",
        429 => "Rate limited; see Retry-After",
        503 => "A dependency is down or the read model is behind; see Retry-After",
        _ => "Internal error",
    }
}
