//! Stored-event schema evolution: pure functions that rewrite an old payload into the next
//! schema version, so stored events are never updated and old streams still load.
//!
//! A reader upcasts step by step until the payload reaches the version that
//! `WalletEvent::from_payload` accepts.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::ledger::{Account, JournalEntry, ProviderName};
use crate::money::Money;
use crate::wallet::current_schema_version;

/// Rewrites a payload of `from_version` into `from_version + 1`, or explains why it cannot.
pub type UpcastFn = fn(Value) -> Result<Value, String>;

pub struct Upcast {
    pub event_type: &'static str,
    pub from_version: u16,
    pub upcast: UpcastFn,
}

/// Every upcaster, each moving one event type up by one version.
pub const UPCASTS: &[Upcast] = &[Upcast {
    event_type: "TopUpCaptured",
    from_version: 1,
    upcast: top_up_captured_v1_to_v2,
}];

/// Applies upcasters until `payload` reaches the current version of `event_type`.
/// Returns the new version with the payload; unknown types and versions newer than the
/// current one are errors, and a payload already current is returned unchanged.
pub fn upcast_to_current(
    event_type: &str,
    schema_version: u16,
    payload: Value,
) -> Result<(u16, Value), String> {
    let current = current_schema_version(event_type)
        .ok_or_else(|| format!("unknown event type {event_type:?}"))?;
    if schema_version > current {
        return Err(format!(
            "{event_type} schema version {schema_version} is newer than {current}"
        ));
    }
    let mut version = schema_version;
    let mut payload = payload;
    // Each step raises the version by one and version < current, so this always ends.
    while version < current {
        let step = UPCASTS
            .iter()
            .find(|upcast| upcast.event_type == event_type && upcast.from_version == version)
            .ok_or_else(|| format!("no upcaster for {event_type} from schema version {version}"))?;
        payload = (step.upcast)(payload)?;
        version += 1;
    }
    Ok((version, payload))
}

/// A `TopUpCaptured` payload in its historical v1 shape (integer halalas, no postings), so
/// storage tests can plant a real old event.
pub fn top_up_captured_v1_payload(
    user_id: Uuid,
    top_up_id: Uuid,
    provider: &str,
    amount_halalas: i64,
    balance_after_halalas: i64,
    pending_balance_after_halalas: i64,
) -> Value {
    serde_json::json!({
        "user_id": user_id,
        "top_up_id": top_up_id,
        "provider": provider,
        "amount_halalas": amount_halalas,
        "balance_after_halalas": balance_after_halalas,
        "pending_balance_after_halalas": pending_balance_after_halalas,
    })
}

/// v1 stored integer halalas and no postings; v2 stores `"0.00"` strings and the entry
/// (debit the provider's clearing account, credit the user's available balance).
fn top_up_captured_v1_to_v2(payload: Value) -> Result<Value, String> {
    let Value::Object(mut fields) = payload else {
        return Err("TopUpCaptured v1 payload is not an object".to_owned());
    };
    let user_id: Uuid = field(&fields, "user_id")?;
    let provider: ProviderName = field(&fields, "provider")?;
    let amount = halalas(&mut fields, "amount_halalas")?;
    let balance_after = halalas(&mut fields, "balance_after_halalas")?;
    let pending_balance_after = halalas(&mut fields, "pending_balance_after_halalas")?;
    if amount.is_zero() {
        return Err("TopUpCaptured v1 amount is zero".to_owned());
    }
    let postings = JournalEntry::transfer(
        Account::ProviderClearing(provider),
        Account::WalletAvailable(user_id),
        amount,
    );
    fields.insert("amount".to_owned(), Value::String(amount.to_string()));
    fields.insert(
        "balance_after".to_owned(),
        Value::String(balance_after.to_string()),
    );
    fields.insert(
        "pending_balance_after".to_owned(),
        Value::String(pending_balance_after.to_string()),
    );
    let postings = serde_json::to_value(&postings)
        .map_err(|error| format!("TopUpCaptured postings: {error}"))?;
    fields.insert("postings".to_owned(), postings);
    Ok(Value::Object(fields))
}

fn field<T: serde::de::DeserializeOwned>(
    fields: &Map<String, Value>,
    name: &str,
) -> Result<T, String> {
    let value = fields
        .get(name)
        .ok_or_else(|| format!("missing field {name}"))?;
    serde_json::from_value(value.clone()).map_err(|error| format!("field {name}: {error}"))
}

/// Removes an integer-halalas field and returns it as `Money`.
fn halalas(fields: &mut Map<String, Value>, name: &str) -> Result<Money, String> {
    let value = fields
        .remove(name)
        .ok_or_else(|| format!("missing field {name}"))?;
    let count = value
        .as_i64()
        .ok_or_else(|| format!("field {name} is not an integer"))?;
    Money::from_halalas(count).map_err(|error| format!("field {name}: {error}"))
}
