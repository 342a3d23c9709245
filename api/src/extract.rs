//! Small request helpers shared by handlers: JSON bodies and pagination, with the field reasons
//! they give.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldErrors};
use crate::i18n::Text;

pub const REQUIRED: Text = Text::new("required", "is required", "مطلوب");
pub const INVALID: Text = Text::new("invalid", "is invalid", "غير صالح");
pub const TOO_LONG: Text = Text::new("too_long", "is too long", "طويل جداً");
pub const INVALID_PAGE: Text = Text::new("invalid_page", "must be a whole number of at least 1", "يجب أن يكون عدداً صحيحاً لا يقل عن 1");
pub const INVALID_PER_PAGE: Text = Text::new("invalid_per_page", "must be a whole number from 1 to 100", "يجب أن يكون عدداً صحيحاً من 1 إلى 100");

/// Field reasons every context uses.
pub const INVALID_DATE: Text =
    Text::new("invalid_date", "must be an RFC 3339 date-time or a date (YYYY-MM-DD)", "يجب أن يكون تاريخاً ووقتاً بصيغة RFC 3339 أو تاريخاً (YYYY-MM-DD)");
pub const INVALID_FLAG: Text = Text::new("invalid_flag", "must be true or false", "يجب أن تكون true أو false");
pub const REASONS: &[Text] = &[REQUIRED, INVALID, TOO_LONG, INVALID_PAGE, INVALID_PER_PAGE, INVALID_DATE, INVALID_FLAG];

/// A `true`/`false` query parameter; false when it is left out.
pub fn flag(field: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::field(field, &INVALID_FLAG)),
    }
}

/// The largest request body accepted.
pub const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;

pub const PER_PAGE_MAX: u64 = 100;
const PER_PAGE_DEFAULT: u64 = 20;

/// Parses a JSON body: 400 when it is not a JSON object (or names a key twice: which one would
/// count is a guess), 422 naming every field that is missing or of the wrong type.
pub fn json_body<T: DeserializeOwned + JsonSchema>(body: &[u8]) -> Result<T, ApiError> {
    let value = unique_keys::parse(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if !value.is_object() {
        return Err(ApiError::MalformedJson("the body must be a JSON object".into()));
    }
    T::deserialize(&value).map_err(|_| field_errors::<T>(&value))
}

/// Every field of `value` the schema of `T` refuses: required ones missing, present ones of the
/// wrong JSON type or format. Only computed once deserializing failed.
fn field_errors<T: JsonSchema>(value: &serde_json::Value) -> ApiError {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    let schema = schema.as_value();
    let mut fields = FieldErrors::new();
    let required = schema.get("required").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    for name in required.iter().filter_map(serde_json::Value::as_str) {
        if value.get(name).is_none_or(serde_json::Value::is_null) {
            fields.entry(name.to_owned()).or_default().push(REQUIRED.code);
        }
    }
    if let Some(properties) = schema.get("properties").and_then(serde_json::Value::as_object) {
        for (name, property) in properties {
            if let Some(given) = value.get(name)
                && !given.is_null()
                && !fits(property, given)
            {
                fields.entry(name.clone()).or_default().push(INVALID.code);
            }
        }
    }
    if fields.is_empty() {
        fields.insert("body".to_owned(), vec![INVALID.code]);
    }
    ApiError::Validation(fields)
}

/// Whether a value has the JSON type (and, for ids, the format) a property's schema asks for.
fn fits(property: &serde_json::Value, value: &serde_json::Value) -> bool {
    let types: Vec<&str> = match property.get("type") {
        Some(serde_json::Value::String(kind)) => vec![kind.as_str()],
        Some(serde_json::Value::Array(kinds)) => kinds.iter().filter_map(serde_json::Value::as_str).collect(),
        _ => return true,
    };
    let kind_fits = types.iter().any(|kind| match *kind {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => true,
    });
    let format_fits = match (property.get("format").and_then(serde_json::Value::as_str), value.as_str()) {
        (Some("uuid"), Some(text)) => uuid::Uuid::parse_str(text).is_ok(),
        _ => true,
    };
    kind_fits && format_fits
}

/// A JSON parser that refuses an object naming a key twice, which `serde_json` would accept
/// keeping the last.
mod unique_keys {
    use std::collections::HashSet;
    use std::fmt;

    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_json::{Map, Value};

    pub fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let value = deserializer.deserialize_any(UniqueKeys)?;
        deserializer.end()?;
        Ok(value)
    }

    struct UniqueKeys;

    impl<'de> Visitor<'de> for UniqueKeys {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value whose objects name each key once")
        }

        fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
            Ok(Value::Bool(value))
        }

        fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
            Ok(Value::from(value))
        }

        fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
            Ok(Value::from(value))
        }

        fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
            Ok(Value::from(value))
        }

        fn visit_str<E>(self, value: &str) -> Result<Value, E> {
            Ok(Value::String(value.to_owned()))
        }

        fn visit_string<E>(self, value: String) -> Result<Value, E> {
            Ok(Value::String(value))
        }

        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
            let mut values = Vec::new();
            while let Some(value) = items.next_element_seed(UniqueKeysSeed)? {
                values.push(value);
            }
            Ok(Value::Array(values))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
            let mut object = Map::new();
            let mut seen = HashSet::new();
            while let Some(key) = entries.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(de::Error::custom(format!("the key {key:?} appears twice")));
                }
                let value = entries.next_value_seed(UniqueKeysSeed)?;
                object.insert(key, value);
            }
            Ok(Value::Object(object))
        }
    }

    struct UniqueKeysSeed;

    impl<'de> de::DeserializeSeed<'de> for UniqueKeysSeed {
        type Value = Value;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
            deserializer.deserialize_any(UniqueKeys)
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct PageQuery {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    pub per_page: Option<String>,
}

impl PageQuery {
    /// (page, per_page), validated.
    pub fn resolve(&self) -> Result<(u64, u64), ApiError> {
        let page = match &self.page {
            None => 1,
            Some(text) => text.parse::<u64>().ok().filter(|p| (1..=1_000_000).contains(p)).ok_or(ApiError::field("page", &INVALID_PAGE))?,
        };
        let per_page = match &self.per_page {
            None => PER_PAGE_DEFAULT,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|p| (1..=PER_PAGE_MAX).contains(p))
                .ok_or(ApiError::field("per_page", &INVALID_PER_PAGE))?,
        };
        Ok((page, per_page))
    }
}


/// A request body, read whole within the body timeout (`REQUEST_BODY_TIMEOUT_MS`) and the size
/// limit: a client that stalls mid-body is answered 408 instead of holding a connection forever.
pub struct Body(pub actix_web::web::Bytes);

impl std::ops::Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl actix_web::FromRequest for Body {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Body, ApiError>>>>;

    fn from_request(request: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        use futures::StreamExt;
        let mut payload = payload.take();
        let timeout_ms = request.app_data::<actix_web::web::Data<crate::startup::AppState>>().map_or(10_000, |state| state.settings.request_body_timeout_ms);
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(timeout_ms);
            let mut body = actix_web::web::BytesMut::new();
            loop {
                let chunk = match tokio::time::timeout_at(deadline, payload.next()).await {
                    Err(_) => return Err(ApiError::RequestTimeout),
                    Ok(None) => return Ok(Body(body.freeze())),
                    Ok(Some(Err(error))) => return Err(ApiError::MalformedRequest(error.to_string())),
                    Ok(Some(Ok(chunk))) => chunk,
                };
                if body.len() + chunk.len() > REQUEST_BODY_BYTES_MAX {
                    return Err(ApiError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
        })
    }
}

/// A reason of the API's own (not the domain's) for refusing a field, so `Fields` collects it
/// with the others.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("{}", .0.en)]
pub struct Invalid(pub &'static Text);

impl domain::kernel::Rejection for Invalid {
    fn code(&self) -> &'static str {
        self.0.code
    }

    fn kind(&self) -> domain::kernel::RejectionKind {
        domain::kernel::RejectionKind::Invalid
    }
}

/// Collects every invalid field of a request before answering, so one 422 names them all.
#[derive(Debug, Default)]
pub struct Fields(FieldErrors);

impl Fields {
    /// The value, or `None` with its reason recorded under the rejection's own field.
    pub fn check<T, E: domain::kernel::Rejection>(&mut self, result: Result<T, E>) -> Option<T> {
        let field = result.as_ref().err().and_then(|error| error.field()).unwrap_or("body");
        self.check_as(field, result)
    }

    /// The value, or `None` with its reason recorded under `field`.
    pub fn check_as<T, E: domain::kernel::Rejection>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.entry(field.to_owned()).or_default().push(error.code());
                None
            }
        }
    }

    /// An optional input: `None` when absent, else checked like any other.
    pub fn optional<T, E: domain::kernel::Rejection>(&mut self, field: &str, result: Option<Result<T, E>>) -> Option<Option<T>> {
        match result {
            None => Some(None),
            Some(result) => self.check_as(field, result).map(Some),
        }
    }

    /// 422 naming every field recorded, or nothing to say.
    pub fn done(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.0)) }
    }
}

/// For `PATCH` bodies: a field given as `null` (`Some(None)`) is not the same as one left out
/// (`None`). Use with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An RFC 3339 instant, or a date meaning its midnight in Riyadh.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, Invalid> {
    domain::kernel::riyadh::parse_instant(text).ok_or(Invalid(&INVALID_DATE))
}
