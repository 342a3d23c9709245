//! The success envelope: `{"success": true, "message", "data", "meta"}`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::i18n::Text;

/// `meta.pagination` of list answers.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
pub struct Pagination {
    pub current_page: u64,
    pub total_pages: u64,
    pub per_page: u64,
    pub total: u64,
}

impl Pagination {
    pub fn new(page: u64, per_page: u64, total: u64) -> Self {
        Self { current_page: page, total_pages: total.div_ceil(per_page), per_page, total }
    }

    /// A list answered whole, as one page.
    pub fn whole(length: u64) -> Self {
        Self::new(1, length.max(1), length)
    }
}

/// The success message when a route has no better one.
pub const OK: Text = Text::new("ok", "OK", "تم بنجاح");

pub struct Reply {
    status: StatusCode,
    message: &'static Text,
    data: Value,
    meta: Map<String, Value>,
}

impl Reply {
    pub fn ok(data: impl Serialize) -> Self {
        Self::with_status(StatusCode::OK, &OK, data)
    }

    pub fn created(message: &'static Text, data: impl Serialize) -> Self {
        Self::with_status(StatusCode::CREATED, message, data)
    }

    pub fn with_status(status: StatusCode, message: &'static Text, data: impl Serialize) -> Self {
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        Self { status, message, data, meta: Map::new() }
    }

    pub fn message(mut self, message: &'static Text) -> Self {
        self.message = message;
        self
    }

    /// `meta.position`: the global position of the command's last event.
    pub fn position(mut self, position: Option<u64>) -> Self {
        if let Some(position) = position {
            self.meta.insert("position".into(), json!(position));
        }
        self
    }

    /// `meta.next_cursor`: where a cursor list's next page starts.
    pub fn next_cursor(mut self, cursor: impl Serialize) -> Self {
        self.meta.insert("next_cursor".into(), json!(cursor));
        self
    }

    pub fn pagination(mut self, pagination: Pagination) -> Self {
        self.meta.insert("pagination".into(), json!(pagination));
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn body(&self) -> Value {
        json!({ "success": true, "message": self.message.current(), "data": self.data, "meta": self.meta })
    }

    pub fn into_response(self) -> HttpResponse {
        HttpResponse::build(self.status).json(self.body())
    }
}

impl actix_web::Responder for Reply {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &actix_web::HttpRequest) -> HttpResponse {
        self.into_response()
    }
}
