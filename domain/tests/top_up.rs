//! Top-ups, given/when/then.

use domain::ledger::ProviderName;
use domain::money::Money;
use domain::top_up::{TopUp, TopUpCommand, TopUpError, TopUpEvent, TopUpStatus};
use uuid::Uuid;

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn requested(amount: &str) -> (Uuid, TopUpEvent) {
    let id = Uuid::now_v7();
    let event = TopUpEvent::TopUpRequested {
        top_up_id: id,
        user_id: Uuid::now_v7(),
        provider: ProviderName::parse("sandbox").unwrap(),
        amount: money(amount),
    };
    (id, event)
}

fn given(events: &[TopUpEvent]) -> TopUp {
    let mut top_up = TopUp::default();
    for event in events {
        top_up.apply(event);
    }
    top_up
}

fn capture(event_id: &str, amount: &str) -> TopUpCommand {
    TopUpCommand::Capture { provider_event_id: event_id.into(), amount: money(amount) }
}

#[test]
fn a_capture_of_the_requested_amount_settles_the_top_up() {
    let (id, request) = requested("100.00");
    let events = given(std::slice::from_ref(&request)).handle(capture("evt-1", "100.00")).unwrap();
    assert_eq!(events, [TopUpEvent::TopUpPaymentCaptured { top_up_id: id, provider_event_id: "evt-1".into(), amount: money("100.00") }]);
    let mut top_up = given(&[request]);
    top_up.apply(&events[0]);
    assert_eq!(top_up.status(), Some(TopUpStatus::Captured));
}

#[test]
fn a_capture_of_another_amount_is_refused() {
    let (_, request) = requested("100.00");
    assert_eq!(given(&[request]).handle(capture("evt-1", "99.99")), Err(TopUpError::AmountMismatch));
}

#[test]
fn the_same_notification_twice_changes_nothing_and_another_after_settlement_is_refused() {
    let (id, request) = requested("100.00");
    let captured = TopUpEvent::TopUpPaymentCaptured { top_up_id: id, provider_event_id: "evt-1".into(), amount: money("100.00") };
    let top_up = given(&[request, captured]);
    assert_eq!(top_up.handle(capture("evt-1", "100.00")), Ok(vec![]));
    assert_eq!(top_up.handle(capture("evt-2", "100.00")), Err(TopUpError::AlreadySettled));
    assert_eq!(top_up.handle(TopUpCommand::Fail { provider_event_id: "evt-3".into() }), Err(TopUpError::AlreadySettled));
    assert_eq!(top_up.handle(TopUpCommand::Fail { provider_event_id: "evt-1".into() }), Err(TopUpError::AlreadySettled));
}

#[test]
fn a_failed_payment_settles_without_money_and_an_unknown_top_up_is_refused() {
    let (id, request) = requested("10.00");
    let events = given(&[request]).handle(TopUpCommand::Fail { provider_event_id: "evt-9".into() }).unwrap();
    assert_eq!(events, [TopUpEvent::TopUpPaymentFailed { top_up_id: id, provider_event_id: "evt-9".into() }]);
    assert_eq!(TopUp::default().handle(capture("evt-1", "1.00")), Err(TopUpError::Unknown));
}

#[test]
fn events_round_trip_through_their_payload() {
    let (_, request) = requested("12.34");
    let decoded = TopUpEvent::from_payload(request.event_type(), request.to_payload()).unwrap();
    assert_eq!(decoded, request);
    assert_eq!(request.to_payload()["amount"], "12.34");
}
