//! The wallet context's schema history: pure functions that rewrite an old payload into the next
//! schema version, so stored events are never updated and old streams still load.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::kernel::{Upcast, field};
use crate::ledger::{Account, JournalEntry, ProviderName};
use crate::money::Money;

/// Every upcaster of the context, each moving one event type up by one version.
pub const UPCASTS: &[Upcast] = &[
    Upcast { event_type: "TopUpCaptured", from_version: 1, upcast: top_up_captured_v1_to_v2 },
    Upcast { event_type: "WalletDebited", from_version: 1, upcast: wallet_debited_v1_to_v2 },
    Upcast { event_type: "EarningsAdded", from_version: 1, upcast: earnings_added_v1_to_v2 },
];

/// v1 debited a whole order at once; v2 debits one order line and names it. A v1 debit was the
/// order's only one, so it stands for a line of its own named by the order id.
fn wallet_debited_v1_to_v2(payload: Value) -> Result<Value, String> {
    copy_field(payload, "WalletDebited", "order_id", "order_item_id")
}

/// v1 earned once per order; v2 names each earning. A v1 earning was the order's only one, so
/// the order id names it.
fn earnings_added_v1_to_v2(payload: Value) -> Result<Value, String> {
    copy_field(payload, "EarningsAdded", "order_id", "earning_id")
}

fn copy_field(payload: Value, event_type: &str, from: &str, to: &str) -> Result<Value, String> {
    let Value::Object(mut fields) = payload else {
        return Err(format!("{event_type} v1 payload is not an object"));
    };
    let value: Uuid = field(&fields, from)?;
    fields.insert(to.to_owned(), Value::String(value.to_string()));
    Ok(Value::Object(fields))
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
