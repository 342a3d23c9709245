//! Schema evolution: historical payloads upcast into events the current code decodes.

use std::collections::HashSet;

use domain::kernel::{DomainEvent, upcast_to};
use domain::ledger::{Account, ProviderName};
use domain::money::Money;
use domain::users::UserEvent;
use domain::users::schema::user_registered_v1_payload;
use domain::wallet::WalletEvent;
use domain::wallet::schema::{UPCASTS, top_up_captured_v1_payload};
use rust_decimal_macros::dec;
use uuid::Uuid;

/// Upcasts a payload to the current version of its type, across every context's upcasters.
fn upcast_to_current(event_type: &str, version: u16, payload: serde_json::Value) -> Result<(u16, serde_json::Value), String> {
    let context = domain::CONTEXTS
        .iter()
        .find(|context| context.event_types().any(|declared| declared.name == event_type))
        .ok_or_else(|| format!("unknown event type {event_type:?}"))?;
    let current = context.event_types().find(|declared| declared.name == event_type).map(|declared| declared.version).unwrap_or_default();
    upcast_to(context.upcasts, event_type, version, current, payload)
}

fn upcast_with_table(
    event_type: &str,
    mut version: u16,
    mut payload: serde_json::Value,
) -> (u16, serde_json::Value) {
    while let Some(step) = UPCASTS
        .iter()
        .find(|u| u.event_type == event_type && u.from_version == version)
    {
        payload = (step.upcast)(payload).expect("upcast succeeds");
        version += 1;
    }
    (version, payload)
}

#[test]
fn top_up_captured_v1_upcasts_to_a_balanced_v2_event() {
    let user = Uuid::from_u128(1);
    let top_up = Uuid::from_u128(2);
    let v1 = top_up_captured_v1_payload(user, top_up, "moyasar", 11_550, 20_000, 75);
    assert!(WalletEvent::decode("TopUpCaptured", 1, &v1).is_err());

    let (version, v2) = upcast_with_table("TopUpCaptured", 1, v1.clone());
    assert_eq!(version, 2);
    assert!(v2.get("amount_halalas").is_none());
    let event = WalletEvent::decode("TopUpCaptured", version, &v2).expect("v2 decodes");
    let WalletEvent::TopUpCaptured {
        user_id,
        top_up_id,
        provider,
        amount,
        balance_after,
        pending_balance_after,
        postings,
    } = &event
    else {
        panic!("expected TopUpCaptured, got {event:?}");
    };
    assert_eq!(*user_id, user);
    assert_eq!(*top_up_id, top_up);
    assert_eq!(provider.as_str(), "moyasar");
    assert_eq!(*amount, Money::parse("115.50").unwrap());
    assert_eq!(*balance_after, Money::parse("200.00").unwrap());
    assert_eq!(*pending_balance_after, Money::parse("0.75").unwrap());
    assert!(postings.is_balanced());
    let clearing = Account::ProviderClearing(ProviderName::parse("moyasar").unwrap());
    assert_eq!(postings.balance_of(&clearing), dec!(115.50));
    assert_eq!(
        postings.balance_of(&Account::WalletAvailable(user)),
        dec!(-115.50)
    );

    assert_eq!(
        upcast_to_current("TopUpCaptured", 1, v1).map(|(v, p)| WalletEvent::decode("TopUpCaptured", v, &p)),
        Ok(Ok(event))
    );
}

#[test]
fn current_payloads_pass_through_and_bad_ones_fail() {
    let payload = serde_json::json!({"user_id": Uuid::from_u128(1), "currency": "SAR"});
    assert_eq!(
        upcast_to_current("WalletOpened", 1, payload.clone()),
        Ok((1, payload))
    );
    assert!(upcast_to_current("WalletClosed", 1, serde_json::json!({})).is_err());
    assert!(upcast_to_current("TopUpCaptured", 3, serde_json::json!({})).is_err());

    let bad = [
        top_up_captured_v1_payload(
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            "Bad Name",
            100,
            100,
            0,
        ),
        top_up_captured_v1_payload(
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            "moyasar",
            -100,
            100,
            0,
        ),
        top_up_captured_v1_payload(Uuid::from_u128(1), Uuid::from_u128(2), "moyasar", 0, 100, 0),
        serde_json::json!({"user_id": Uuid::from_u128(1)}),
        serde_json::json!([]),
    ];
    for payload in bad {
        assert!(
            upcast_to_current("TopUpCaptured", 1, payload.clone()).is_err(),
            "{payload}"
        );
    }
}

#[test]
fn a_v1_registration_upcasts_to_personal_data_held_in_plain_text() {
    let user = Uuid::from_u128(7);
    let v1 = user_registered_v1_payload(user, "Sara", "sara", "sara@example.com", "$argon2id$hash");
    let (version, v2) = upcast_to_current("UserRegistered", 1, v1).unwrap();
    assert_eq!(version, 2);
    for (field, value) in [("name", "Sara"), ("username", "sara"), ("email", "sara@example.com"), ("password_hash", "$argon2id$hash")] {
        assert_eq!(v2[field], serde_json::json!({ "$plain": { "subject": user, "value": value } }), "{field}");
    }
    // Readers open plain values like sealed ones (see the store's personal-data tests); the
    // domain decodes only opened values.
    assert!(UserEvent::decode("UserRegistered", 2, &v2).is_err());
}

#[test]
fn a_v1_reservation_upcasts_to_one_that_names_only_the_user() {
    let user = Uuid::from_u128(7);
    let v1 = serde_json::json!({ "email": "sara@example.com", "user_id": user });
    assert_eq!(upcast_to_current("EmailReserved", 1, v1), Ok((2, serde_json::json!({ "user_id": user }))));
    let v1 = serde_json::json!({ "username": "sara", "user_id": user });
    assert_eq!(upcast_to_current("UsernameReserved", 1, v1), Ok((2, serde_json::json!({ "user_id": user }))));
}

#[test]
fn every_event_type_is_declared_once_and_every_old_version_has_its_upcasters() {
    let mut names = HashSet::new();
    for context in domain::CONTEXTS {
        for declared in context.event_types() {
            assert!(names.insert(declared.name), "{} is declared twice", declared.name);
            assert!(declared.version >= 1, "{}", declared.name);
            for from in 1..declared.version {
                let steps = context.upcasts.iter().filter(|u| u.event_type == declared.name && u.from_version == from).count();
                assert_eq!(steps, 1, "{} needs exactly one upcaster from version {from}", declared.name);
            }
        }
        for upcast in context.upcasts {
            let declared = context.event_types().find(|d| d.name == upcast.event_type);
            assert!(declared.is_some_and(|d| upcast.from_version < d.version), "{} v{} upcasts nothing current", upcast.event_type, upcast.from_version);
        }
    }
}

/// A v1 debit paid a whole order and a v1 earning was an order's only one: each now names its
/// line or earning by the order id, and everything else reads as it was stored.
#[test]
fn order_level_debits_and_earnings_of_v1_read_as_lines_of_their_order() {
    let user = Uuid::from_u128(1);
    let order = Uuid::from_u128(7);
    let debit_v1 = serde_json::json!({
        "user_id": user, "order_id": order, "category": "course", "amount": "115.00", "vat": "15.00",
        "description": "Tajweed", "balance_after": "85.00", "pending_balance_after": "0.00",
        "postings": [
            {"account": format!("wallet:{user}:available"), "amount": "115.00"},
            {"account": "platform:vat_payable", "amount": "-15.00"},
            {"account": "platform:revenue", "amount": "-100.00"},
        ],
    });
    assert!(WalletEvent::decode("WalletDebited", 1, &debit_v1).is_err());
    let (version, v2) = upcast_to_current("WalletDebited", 1, debit_v1).unwrap();
    let WalletEvent::WalletDebited { order_id, order_item_id, amount, .. } = WalletEvent::decode("WalletDebited", version, &v2).unwrap() else {
        panic!("a debit");
    };
    assert_eq!((order_id, order_item_id, amount), (order, order, Money::parse("115").unwrap()));

    let earning_v1 = serde_json::json!({
        "user_id": user, "order_id": order, "amount": "80.00", "release_at": "2025-03-10T12:00:00Z",
        "description": "Sale", "balance_after": "0.00", "pending_balance_after": "80.00",
        "postings": [
            {"account": "platform:revenue", "amount": "80.00"},
            {"account": format!("wallet:{user}:pending"), "amount": "-80.00"},
        ],
    });
    let (version, v2) = upcast_to_current("EarningsAdded", 1, earning_v1).unwrap();
    let WalletEvent::EarningsAdded { earning_id, order_id, .. } = WalletEvent::decode("EarningsAdded", version, &v2).unwrap() else {
        panic!("an earning");
    };
    assert_eq!((earning_id, order_id), (order, order));
}
