//! Top-ups, given/when/then.

use domain::kernel::testing::{self, Given};
use domain::kernel::{Aggregate, DomainEvent};
use domain::ledger::ProviderName;
use domain::money::Money;
use domain::wallet::top_up::{TopUp, TopUpCommand, TopUpError, TopUpEvent, TopUpStatus};
use uuid::Uuid;

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn requested(amount: &str) -> (Uuid, TopUpEvent) {
    let id = Uuid::from_u128(0x70);
    let event = TopUpEvent::TopUpRequested {
        top_up_id: id,
        user_id: Uuid::from_u128(0x71),
        provider: ProviderName::parse("sandbox").unwrap(),
        amount: money(amount),
    };
    (id, event)
}

fn given(events: &[TopUpEvent]) -> TopUp {
    let given: Given<TopUp> = testing::given(events.iter().cloned());
    given.state().clone()
}

fn sandbox() -> ProviderName {
    ProviderName::parse("sandbox").unwrap()
}

fn capture(event_id: &str, amount: &str) -> TopUpCommand {
    TopUpCommand::Capture { provider: sandbox(), provider_event_id: event_id.into(), amount: money(amount) }
}

fn fail(event_id: &str) -> TopUpCommand {
    TopUpCommand::Fail { provider: sandbox(), provider_event_id: event_id.into() }
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
    assert_eq!(top_up.handle(fail("evt-3")), Err(TopUpError::AlreadySettled));
    assert_eq!(top_up.handle(fail("evt-1")), Err(TopUpError::AlreadySettled));
}

#[test]
fn a_failed_payment_settles_without_money_and_an_unknown_top_up_is_refused() {
    let (id, request) = requested("10.00");
    let events = given(&[request]).handle(fail("evt-9")).unwrap();
    assert_eq!(events, [TopUpEvent::TopUpPaymentFailed { top_up_id: id, provider_event_id: "evt-9".into() }]);
    assert_eq!(TopUp::default().handle(capture("evt-1", "1.00")), Err(TopUpError::Unknown));
}

#[test]
fn events_round_trip_through_their_payload() {
    let (_, request) = requested("12.34");
    testing::assert_round_trip(&request);
    assert_eq!(request.encode().unwrap().payload["amount"], "12.34");
}

#[test]
fn another_providers_notification_does_not_find_the_top_up() {
    let (_, request) = requested("10.00");
    let other = ProviderName::parse("moyasar").unwrap();
    let top_up = given(&[request]);
    let capture = TopUpCommand::Capture { provider: other.clone(), provider_event_id: "evt-1".into(), amount: money("10.00") };
    assert_eq!(top_up.handle(capture), Err(TopUpError::Unknown));
    assert_eq!(top_up.handle(TopUpCommand::Fail { provider: other, provider_event_id: "evt-1".into() }), Err(TopUpError::Unknown));
}

#[test]
fn a_capture_the_wallet_cannot_take_is_held_in_suspense_and_its_redelivery_changes_nothing() {
    use domain::ledger::Account;
    let (id, request) = requested("50.00");
    let hold = TopUpCommand::Hold { provider: sandbox(), provider_event_id: "evt-1".into(), amount: money("50.00"), reason: "too much".into() };
    let events = given(std::slice::from_ref(&request)).handle(hold.clone()).unwrap();
    let TopUpEvent::TopUpHeld { top_up_id, postings, .. } = &events[0] else { panic!("{events:?}") };
    assert_eq!(*top_up_id, id);
    assert_eq!(postings.balance_of(&Account::Suspense), -money("50.00").amount());
    assert_eq!(postings.balance_of(&Account::ProviderClearing(sandbox())), money("50.00").amount());
    let held = given(&[request, events[0].clone()]);
    assert_eq!(held.status(), Some(TopUpStatus::Held));
    assert_eq!(held.handle(capture("evt-1", "50.00")), Ok(vec![]), "the same notification again");
    assert_eq!(held.handle(hold), Ok(vec![]));
    assert_eq!(held.handle(capture("evt-2", "50.00")), Err(TopUpError::AlreadySettled));
}
