//! The users context's schema history. Registrations and reservations written before personal
//! data was sealed carried names, emails and password hashes in plain text: their upcasters hand
//! those values to readers marked as personal data of the user, so they too read as erased once
//! the user is (the stored rows cannot be rewritten; see ADR 7).

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::kernel::{Upcast, field, plain_personal};

pub const UPCASTS: &[Upcast] = &[
    Upcast { event_type: "UserRegistered", from_version: 1, upcast: user_registered_v1_to_v2 },
    Upcast { event_type: "EmailReserved", from_version: 1, upcast: reservation_v1_to_v2 },
    Upcast { event_type: "UsernameReserved", from_version: 1, upcast: reservation_v1_to_v2 },
];

/// A `UserRegistered` payload in its historical v1 shape, so tests can plant a real old event.
pub fn user_registered_v1_payload(user_id: Uuid, name: &str, username: &str, email: &str, password_hash: &str) -> Value {
    serde_json::json!({
        "user_id": user_id,
        "name": name,
        "username": username,
        "email": email,
        "password_hash": password_hash,
        "roles": ["student"],
        "language": "en",
        "registered_at": "2026-01-01T00:00:00Z",
    })
}

/// v1 kept the personal fields in plain text; v2 marks them personal.
fn user_registered_v1_to_v2(payload: Value) -> Result<Value, String> {
    let Value::Object(mut fields) = payload else {
        return Err("UserRegistered v1 payload is not an object".to_owned());
    };
    let user_id: Uuid = field(&fields, "user_id")?;
    for name in ["name", "username", "email", "password_hash"] {
        let value = fields.remove(name).ok_or_else(|| format!("missing field {name}"))?;
        fields.insert(name.to_owned(), plain_personal(user_id, value));
    }
    Ok(Value::Object(fields))
}

/// v1 named the email or username in the payload; v2 names only the user.
fn reservation_v1_to_v2(payload: Value) -> Result<Value, String> {
    let Value::Object(fields) = payload else {
        return Err("reservation v1 payload is not an object".to_owned());
    };
    let user_id: Uuid = field(&fields, "user_id")?;
    let mut upcast = Map::new();
    upcast.insert("user_id".to_owned(), serde_json::json!(user_id));
    Ok(Value::Object(upcast))
}
