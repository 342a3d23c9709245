//! Schema evolution: historical payloads upcast into events the current code decodes.

use domain::ledger::{Account, ProviderName};
use domain::money::Money;
use domain::schema::{UPCASTS, top_up_captured_v1_payload, upcast_to_current};
use domain::wallet::WalletEvent;
use rust_decimal_macros::dec;
use uuid::Uuid;

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
    assert!(WalletEvent::from_payload("TopUpCaptured", 1, v1.clone()).is_err());

    let (version, v2) = upcast_with_table("TopUpCaptured", 1, v1.clone());
    assert_eq!(version, 2);
    assert!(v2.get("amount_halalas").is_none());
    let event = WalletEvent::from_payload("TopUpCaptured", version, v2).expect("v2 decodes");
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
        upcast_to_current("TopUpCaptured", 1, v1).map(|(v, p)| WalletEvent::from_payload(
            "TopUpCaptured",
            v,
            p
        )),
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
