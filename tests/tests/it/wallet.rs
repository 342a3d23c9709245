//! Wallet commands through the real command layer, event store, relay and projectors.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use std::sync::Arc;

use commands::wallet::stream as wallet_stream;
use commands::{CommandContext, CommandError, Outcome, Transacted};
use domain::ledger::ProviderName;
use domain::money::Money;
use domain::wallet::{EarningCategory, PurchaseCategory, WalletCommand, WalletError, WalletEvent};
use event_store::relay::{Deployment, Relay, RelayConfig};
use event_store::{AppendRequest, ExpectedVersion, NewEvent};
use projections::wallet::WalletProjector;
use projections::{LiveConfig, LiveFeed, ProjectorRunner, RunnerConfig};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::Row;
use crate::support::{Harness, open_store};
use tests::fault::PrivateNats;
use tokio::sync::watch;
use uuid::Uuid;

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn sandbox() -> ProviderName {
    ProviderName::parse("sandbox").unwrap()
}

fn top_up(amount: &str) -> WalletCommand {
    WalletCommand::CreditTopUp { top_up_id: Uuid::now_v7(), provider: sandbox(), amount: money(amount) }
}

fn purchase(gross: &str) -> WalletCommand {
    let (_, vat) = domain::money::vat_split(money(gross));
    WalletCommand::DebitForPurchase {
        order_id: Uuid::now_v7(),
        order_item_id: Uuid::now_v7(),
        category: PurchaseCategory::Course,
        gross: money(gross),
        vat,
        description: "Arabic calligraphy course".into(),
    }
}

impl Harness {
    async fn open_wallet(&self) -> Uuid {
        let user = Uuid::now_v7();
        self.run(user, WalletCommand::Open { user_id: user }).await.unwrap();
        user
    }

    async fn run(&self, user: Uuid, command: WalletCommand) -> Result<Outcome<WalletEvent>, CommandError> {
        self.wallets.execute(user, command, CommandContext::default()).await
    }

    async fn balance_row(&self, user: Uuid) -> (Decimal, Decimal, Decimal, Decimal) {
        let row = sqlx::query("SELECT balance, pending_balance, total_earned, total_withdrawn FROM wallet_balances WHERE user_id = ?")
            .bind(user)
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2), row.get(3))
    }

    async fn transactions(&self, user: Uuid) -> Vec<(String, String, Decimal, Decimal, Decimal)> {
        sqlx::query("SELECT direction, category, amount, balance_after, pending_balance_after FROM wallet_transactions WHERE user_id = ? ORDER BY position")
            .bind(user)
            .fetch_all(&self.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_lifecycle_projects_balances_transactions_and_a_balanced_ledger() {
    let h = Harness::new().await;
    let user = h.open_wallet().await;
    h.run(user, top_up("200.00")).await.unwrap();
    h.run(user, purchase("115.00")).await.unwrap();
    let order = Uuid::now_v7();
    let released = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    h.run(user, WalletCommand::AddPendingEarnings { earning_id: order, order_id: order, category: EarningCategory::Earning, amount: money("70.00"), release_at: released, description: "Course sale".into() })
        .await
        .unwrap();
    h.run(user, WalletCommand::SettlePending { as_of: released }).await.unwrap();
    let withdrawal = Uuid::now_v7();
    h.run(user, WalletCommand::RequestWithdrawal { withdrawal_id: withdrawal, amount: money("100.00") }).await.unwrap();
    h.run(user, WalletCommand::CompleteWithdrawal { withdrawal_id: withdrawal, provider: ProviderName::parse("bank").unwrap() })
        .await
        .unwrap();
    let rejected = Uuid::now_v7();
    h.run(user, WalletCommand::RequestWithdrawal { withdrawal_id: rejected, amount: money("5.00") }).await.unwrap();
    let last = h.run(user, WalletCommand::RejectWithdrawal { withdrawal_id: rejected, reason: "bank details".into() }).await.unwrap();
    h.catch_up().await;

    assert_eq!(h.balance_row(user).await, (dec!(55.00), dec!(0.00), dec!(70.00), dec!(100.00)));
    let transactions = h.transactions(user).await;
    let expected = [
        ("credit", "top_up", dec!(200.00), dec!(200.00), dec!(0.00)),
        ("debit", "course", dec!(115.00), dec!(85.00), dec!(0.00)),
        ("credit", "earning", dec!(70.00), dec!(85.00), dec!(70.00)),
        ("credit", "settlement", dec!(70.00), dec!(155.00), dec!(0.00)),
        ("debit", "withdrawal", dec!(100.00), dec!(55.00), dec!(0.00)),
        ("debit", "withdrawal", dec!(5.00), dec!(50.00), dec!(0.00)),
        ("credit", "withdrawal", dec!(5.00), dec!(55.00), dec!(0.00)),
    ];
    let expected: Vec<_> = expected.iter().map(|(d, c, a, b, p)| (d.to_string(), c.to_string(), *a, *b, *p)).collect();
    assert_eq!(transactions, expected);

    let accounts: Vec<(String, Decimal)> = sqlx::query_as("SELECT account, balance FROM ledger_account_balances ORDER BY account")
        .fetch_all(&h.db.pool)
        .await
        .unwrap();
    let total: Decimal = accounts.iter().map(|(_, b)| *b).sum();
    assert_eq!(total, Decimal::ZERO, "the trial balance is zero: {accounts:?}");
    let account = |name: &str| accounts.iter().find(|(a, _)| a == name).map(|(_, b)| *b);
    assert_eq!(account("platform:vat_payable"), Some(dec!(-15.00)));
    assert_eq!(account("platform:revenue"), Some(dec!(-30.00)), "100.00 net sale less 70.00 paid out as earnings");
    assert_eq!(account("clearing:sandbox"), Some(dec!(200.00)));
    assert_eq!(account("clearing:bank"), Some(dec!(-100.00)));
    assert_eq!(account(&format!("wallet:{user}:available")), Some(dec!(-55.00)));

    let checkpoint = projections::checkpoint(&h.db.pool, WalletProjector::NAME).await.unwrap();
    assert_eq!(checkpoint, Some((projections::Projector::version(&WalletProjector), last.position.unwrap())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_debits_from_two_processes_never_overdraw() {
    let h = Harness::new().await;
    let user = h.open_wallet().await;
    h.run(user, top_up("200.00")).await.unwrap();
    // A second process: its own pool, writer and wallet workers.
    let other = h.another_process(4).await.wallet;

    let mut tasks = Vec::new();
    for i in 0..60 {
        let wallets = if i % 2 == 0 { h.wallets.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move { wallets.execute(user, purchase("10.00"), CommandContext::default()).await }));
    }
    let mut succeeded = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => succeeded += 1,
            Err(error) if error.is(&WalletError::InsufficientFunds { available: Money::ZERO, required: Money::ZERO }) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((succeeded, refused), (20, 40));
    let wallet = h.wallets.load(user).await.unwrap();
    assert_eq!(wallet.available(), Money::ZERO);
    h.catch_up().await;
    assert_eq!(h.balance_row(user).await.0, dec!(0.00));
    let balances: Vec<Decimal> = h.transactions(user).await.iter().map(|t| t.3).collect();
    assert!(balances.iter().all(|b| *b >= Decimal::ZERO));
    assert_eq!(balances.len(), 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_command_with_its_idempotency_key_applies_once_and_answers_the_first_result() {
    let h = Harness::new().await;
    let user = h.open_wallet().await;
    h.run(user, top_up("50.00")).await.unwrap();
    let debit = purchase("40.00");
    let context = CommandContext::idempotent(format!("user:{user}:checkout-1"));
    let first = h.wallets.execute(user, debit.clone(), context.clone()).await.unwrap();
    let again = h.wallets.execute(user, debit.clone(), context.clone()).await.unwrap();
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.position, again.position);
    // Balance is now 10.00: deciding again would say "insufficient funds"; the key answers first.
    let restarted = h.another_process(2).await.wallet;
    let after_restart = restarted.execute(user, debit, context).await.unwrap();
    assert_eq!((after_restart.position, after_restart.replayed), (first.position, true));
    assert_eq!(h.wallets.load(user).await.unwrap().available(), money("10.00"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_provider_capture_credits_once_and_rejections_append_nothing() {
    let h = Harness::new().await;
    let user = h.open_wallet().await;
    let capture = top_up("25.00");
    h.run(user, capture.clone()).await.unwrap();
    let repeat = h.run(user, capture).await.unwrap();
    assert_eq!(repeat.position, None);
    assert!(repeat.events.is_empty());
    let error = h.run(user, purchase("30.00")).await.unwrap_err();
    assert_eq!(error, CommandError::rejected(WalletError::InsufficientFunds { available: money("25.00"), required: money("30.00") }));
    let unopened = Uuid::now_v7();
    assert_eq!(h.run(unopened, top_up("1.00")).await.unwrap_err(), CommandError::rejected(WalletError::NotOpen));
    assert_eq!(h.store.head().await.unwrap().position, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_event_is_upcast_on_every_read_path() {
    let h = Harness::new().await;
    let user = h.open_wallet().await;
    let payload = domain::wallet::schema::top_up_captured_v1_payload(user, Uuid::now_v7(), "sandbox", 12_345, 12_345, 0);
    let v1 = NewEvent::new("TopUpCaptured", 1, payload);
    h.store.append(AppendRequest::single(wallet_stream(user).stream_ref().clone(), ExpectedVersion::Exact(1), vec![v1])).await.unwrap();

    let read = h.store.read_stream(wallet_stream(user).stream_ref(), 1).await.unwrap();
    assert_eq!((read[0].stored_schema_version, read[0].schema_version), (1, 2));
    assert_eq!(read[0].payload["amount"], "123.45");
    // Aggregate load.
    assert_eq!(h.wallets.load(user).await.unwrap().available(), money("123.45"));
    // Projection.
    h.catch_up().await;
    assert_eq!(h.balance_row(user).await.0, dec!(123.45));
    assert_eq!(h.transactions(user).await[0].2, dec!(123.45));
    // And the command layer decides on the upcast state.
    h.run(user, purchase("123.45")).await.unwrap();
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_every_event_once_and_a_projector_follows_nats_live() {
    let h = Harness::new().await;
    let client = async_nats::connect(tests::nats_url()).await.unwrap();
    // Named after this test's own store, so parallel tests never share a stream.
    let deployment = Deployment::new(&h.store, None, tests::DATA_KEY_SECRET).unwrap();
    let config = RelayConfig::new(deployment.clone());
    let (stop, shutdown) = watch::channel(false);
    // Two relays side by side: one leads, the other waits on the lock.
    tokio::spawn(Relay::new(h.store.clone(), client.clone(), config.clone()).run(shutdown.clone()));
    tokio::spawn(Relay::new(h.store.clone(), client.clone(), config.clone()).run(shutdown.clone()));

    // A projector in another process, that only hears of new events through NATS.
    let reader_store = open_store(&h.db.another_pool(4).await).await;
    let runner_config = RunnerConfig { live_fallback_ms: 600_000, live_fallback_waited_ms: 600_000, poll_busy_ms: 600_000, poll_idle_max_ms: 600_000, ..RunnerConfig::default() };
    let live_config = LiveConfig::new(Deployment::new(&reader_store, None, tests::DATA_KEY_SECRET).unwrap());
    let live = LiveFeed::start(reader_store.clone(), client.clone(), live_config, shutdown.clone());
    let runner = ProjectorRunner::new(reader_store, Arc::new(WalletProjector), runner_config);
    tokio::spawn(runner.clone().run(Some(live), shutdown.clone()));

    let user = h.open_wallet().await;
    let mut last = 0;
    for _ in 0..20 {
        last = h.run(user, top_up("1.00")).await.unwrap().position.unwrap();
    }
    if !runner.wait_for(last, Duration::from_secs(20)).await {
        let jetstream = async_nats::jetstream::new(client.clone());
        let relayed = jetstream.get_stream(deployment.stream_name()).await.unwrap().info().await.unwrap().state.messages;
        panic!("projector did not follow to {last}: applied {}, relayed {relayed}", *runner.applied().borrow());
    }
    assert_eq!(h.balance_row(user).await.0, dec!(20.00));
    // Events one at a time, each alone in its chunk: none may be lost while the feed waits
    // for more (the feed once dropped a gathering chunk whenever its connection check ticked).
    for _ in 0..10 {
        let alone = h.run(user, top_up("1.00")).await.unwrap().position.unwrap();
        assert!(runner.wait_for(alone, Duration::from_secs(10)).await, "projector followed to {alone}, applied {}", *runner.applied().borrow());
        tokio::time::sleep(Duration::from_millis(30)).await;
    }

    // Another process's append is found by the relay's reading of the store.
    let other = h.another_process(2).await.wallet;
    let elsewhere = other.execute(user, top_up("1.00"), CommandContext::default()).await.unwrap().position.unwrap();
    assert!(runner.wait_for(elsewhere, Duration::from_secs(20)).await, "projector followed to {elsewhere}");
    let jetstream = async_nats::jetstream::new(client);
    let mut stream = jetstream.get_stream(deployment.stream_name()).await.unwrap();
    wait_until("all events in JetStream", async || stream.info().await.unwrap().state.messages == elsewhere).await;
    let last = h.run(user, top_up("1.00")).await.unwrap().position.unwrap();
    wait_until("all events in JetStream", async || stream.info().await.unwrap().state.messages == last).await;
    let message = stream.get_last_raw_message_by_subject(&format!("{}.wallet.TopUpCaptured", deployment.subject_prefix())).await.unwrap();
    let event: event_store::StoredEvent = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(event.position, last);
    // Saved every so often while busy, and as soon as it is quiet.
    let relayed = async || -> Option<u64> {
        sqlx::query_scalar("SELECT position FROM relay_checkpoints WHERE relay = ?")
            .bind(deployment.stream_name())
            .fetch_optional(&h.db.pool)
            .await
            .unwrap()
    };
    wait_until("the relay checkpoint at the last event", async || relayed().await == Some(last)).await;
    stop.send(true).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_projections_carry_on_without_nats_and_the_fan_out_resumes_when_it_returns() {
    let h = Harness::new().await;
    let port = PrivateNats::free_port();
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let deployment = Deployment::new(&h.store, None, tests::DATA_KEY_SECRET).unwrap();
    let config = RelayConfig { retry_delay_ms: 100, ..RelayConfig::new(deployment.clone()) };
    let (stop, shutdown) = watch::channel(false);
    tokio::spawn(Relay::new(h.store.clone(), client.clone(), config.clone()).run(shutdown.clone()));
    let live = LiveFeed::start(h.store.clone(), client.clone(), LiveConfig::new(deployment.clone()), shutdown.clone());
    let runner = ProjectorRunner::new(h.store.clone(), Arc::new(WalletProjector), RunnerConfig::default());
    tokio::spawn(runner.clone().run(Some(live.clone()), shutdown.clone()));

    let user = h.open_wallet().await;
    let last = h.run(user, top_up("9.99")).await.unwrap().position.unwrap();
    assert!(runner.wait_for(last, Duration::from_secs(10)).await, "the projector reads the store while NATS is down");

    let mut server = PrivateNats::start_on(port).await;
    let jetstream = async_nats::jetstream::new(client);
    wait_until("the relay to publish after NATS came back", async || match jetstream.get_stream(deployment.stream_name()).await {
        Ok(mut stream) => stream.info().await.map(|i| i.state.messages == last).unwrap_or(false),
        Err(_) => false,
    })
    .await;
    wait_until("the live feed to follow NATS again", async || *live.following().borrow()).await;
    let last = h.run(user, top_up("0.01")).await.unwrap().position.unwrap();
    assert!(runner.wait_for(last, Duration::from_secs(10)).await);
    assert_eq!(h.balance_row(user).await.0, dec!(10.00));
    stop.send(true).unwrap();
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_settles_the_top_up_and_credits_the_wallet_in_one_append_or_not_at_all() {
    let h = Harness::new().await;
    let wallet = &h.commands.wallet;
    let user = h.open_wallet().await;
    let capture = async |requested: &str, event: &str, amount: &str| {
        let Transacted::Done { value: top_up, .. } = wallet.request_top_up(user, sandbox(), money(requested), &CommandContext::default()).await.unwrap()
        else {
            panic!("a new top-up is not a replay");
        };
        let top_up_id = top_up.state.id().unwrap();
        let result = wallet.capture_top_up(top_up_id, &sandbox(), event, money(amount), &CommandContext::default()).await;
        (top_up_id, result)
    };

    let (first, captured) = capture("999999999.00", "evt-1", "999999999.00").await;
    let position = captured.unwrap().position().unwrap();
    let appended = h.store.read_all(position - 2, 10).await.unwrap();
    let last_two: Vec<(&str, &str)> = appended.iter().rev().take(2).map(|e| (e.stream.stream_type.as_str(), e.event_type.as_str())).collect();
    assert_eq!(last_two, [("wallet", "TopUpCaptured"), ("top_up", "TopUpPaymentCaptured")], "one append, both streams");
    assert_eq!(appended[appended.len() - 1].metadata.correlation_id, appended[appended.len() - 2].metadata.correlation_id);
    assert_eq!(wallet.top_up(first).await.unwrap().status(), Some(domain::wallet::top_up::TopUpStatus::Captured));

    // The wallet cannot take this credit (above the largest balance): nothing reaches it, and the
    // captured money is held in suspense instead — settled, never lost, and never half-applied.
    let head = h.store.head().await.unwrap().position;
    let balance = h.wallets.load(user).await.unwrap().available();
    let (second, held) = capture("5.00", "evt-2", "5.00").await;
    let held = held.unwrap().position().unwrap();
    assert_eq!(wallet.top_up(second).await.unwrap().status(), Some(domain::wallet::top_up::TopUpStatus::Held));
    assert_eq!(h.wallets.load(user).await.unwrap().available(), balance);
    assert_eq!(held, head + 2, "the request, then the hold");
    let hold = h.store.read_all(held - 1, 1).await.unwrap().remove(0);
    assert_eq!((hold.stream.stream_type.as_str(), hold.event_type.as_str()), ("top_up", "TopUpHeld"));
    h.catch_up().await;
    let suspense: Decimal = sqlx::query_scalar("SELECT balance FROM ledger_account_balances WHERE account = 'platform:suspense'").fetch_one(&h.db.pool).await.unwrap();
    assert_eq!(suspense, dec!(-5.00));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_deciding_on_a_stale_cached_top_up_is_corrected_by_the_store() {
    use domain::wallet::top_up::{TopUpError, TopUpStatus};
    let h = Harness::new().await;
    let user = h.open_wallet().await;
    // Process A creates the top-up and so keeps it as pending; process B settles it.
    let here = &h.commands;
    let there = h.another_process(2).await;
    let none = CommandContext::default();
    let Transacted::Done { value: requested, .. } = here.wallet.request_top_up(user, sandbox(), money("30.00"), &none).await.unwrap() else {
        panic!("a new top-up is not a replay");
    };
    let top_up_id = requested.state.id().unwrap();
    there.wallet.capture_top_up(top_up_id, &sandbox(), "evt-b", money("30.00"), &none).await.unwrap();

    // A still has it pending. The same notification changes nothing; another is refused.
    let stream = commands::wallet::top_up_stream(top_up_id);
    let stale = here.kernel.cached(&stream).unwrap();
    assert_eq!(stale.state.status(), Some(TopUpStatus::Pending), "the cache is what makes this test meaningful");
    let repeat = here.wallet.capture_top_up(top_up_id, &sandbox(), "evt-b", money("30.00"), &none).await.unwrap();
    let Transacted::Done { value: settled, position, .. } = repeat else { panic!("not a replay") };
    assert_eq!((position, settled.state.status()), (None, Some(TopUpStatus::Captured)));
    let other = here.wallet.capture_top_up(top_up_id, &sandbox(), "evt-c", money("30.00"), &none).await;
    assert_eq!(other.unwrap_err(), CommandError::rejected(TopUpError::AlreadySettled));
    let failed = here.wallet.fail_top_up(top_up_id, &sandbox(), "evt-d", &none).await;
    assert_eq!(failed.unwrap_err(), CommandError::rejected(TopUpError::AlreadySettled));

    assert_eq!(h.wallets.load(user).await.unwrap().available(), money("30.00"), "credited once");
}
