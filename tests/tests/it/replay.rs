//! The operators' CLI, run in-process against real wallets built through the command layer, and
//! against corruption planted the way an attacker or a bug would plant it.

use chrono::{Duration, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use clap::Parser;
use commands::CommandContext;
use commands::wallet::stream as wallet_stream;
use domain::ledger::ProviderName;
use domain::money::Money;
use domain::wallet::{EarningCategory, PurchaseCategory, WalletCommand};
use event_store::RecordedEvent;
use replay_tools::{Cli, ExitStatus};
use rust_decimal::Decimal;
use crate::support::Harness;
use uuid::Uuid;

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn sandbox() -> ProviderName {
    ProviderName::parse("sandbox").unwrap()
}

impl Harness {
    async fn run_ok(&self, user: Uuid, command: WalletCommand) -> u64 {
        self.wallets.execute(user, command, CommandContext::default()).await.unwrap().position.unwrap()
    }

    /// A wallet through a whole lifecycle: 100.00 in, 30.00 spent, 20.00 earned and released,
    /// 10.00 withdrawn. Returns the user and the top-up's position.
    async fn busy_wallet(&self) -> (Uuid, u64) {
        let user = Uuid::now_v7();
        self.run_ok(user, WalletCommand::Open { user_id: user }).await;
        let top_up = self
            .run_ok(user, WalletCommand::CreditTopUp { top_up_id: Uuid::now_v7(), provider: sandbox(), amount: money("100.00") })
            .await;
        let (_, vat) = domain::money::vat_split(money("30.00"));
        self.run_ok(
            user,
            WalletCommand::DebitForPurchase {
                order_id: Uuid::now_v7(),
                order_item_id: Uuid::now_v7(),
                category: PurchaseCategory::Book,
                gross: money("30.00"),
                vat,
                description: "Tajweed handbook".into(),
            },
        )
        .await;
        let released = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        self.run_ok(
            user,
            WalletCommand::AddPendingEarnings {
                earning_id: Uuid::now_v7(),
                order_id: Uuid::now_v7(),
                category: EarningCategory::Earning,
                amount: money("20.00"),
                release_at: released,
                description: "Course sale".into(),
            },
        )
        .await;
        self.run_ok(user, WalletCommand::SettlePending { as_of: released }).await;
        let withdrawal = Uuid::now_v7();
        self.run_ok(user, WalletCommand::RequestWithdrawal { withdrawal_id: withdrawal, amount: money("10.00") }).await;
        self.run_ok(user, WalletCommand::CompleteWithdrawal { withdrawal_id: withdrawal, provider: sandbox() }).await;
        (user, top_up)
    }


    async fn events(&self, user: Uuid) -> Vec<RecordedEvent> {
        self.store.read_stream(wallet_stream(user).stream_ref(), 0).await.unwrap()
    }

    async fn execute(&self, sql: &str) -> u64 {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&self.db.pool).await.unwrap().rows_affected()
    }

    async fn read_models(&self) -> (Vec<TransactionSnapshot>, Vec<BalanceSnapshot>) {
        let transactions = sqlx::query_as(
            "SELECT id, position, user_id, direction, category, amount, balance_after, pending_balance_after, reference, \
             related_type, related_id, description, created_at FROM wallet_transactions ORDER BY position",
        )
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        let balances = sqlx::query_as(
            "SELECT user_id, balance, pending_balance, total_earned, total_withdrawn, currency, last_position \
             FROM wallet_balances ORDER BY user_id",
        )
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        (transactions, balances)
    }
}

/// A `wallet_transactions` row, every column.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct TransactionSnapshot {
    id: Uuid,
    position: u64,
    user_id: Uuid,
    direction: String,
    category: String,
    amount: Decimal,
    balance_after: Decimal,
    pending_balance_after: Decimal,
    reference: String,
    related_type: String,
    related_id: Uuid,
    description: String,
    created_at: NaiveDateTime,
}

type BalanceSnapshot = (Uuid, Decimal, Decimal, Decimal, Decimal, String, u64);

/// The position of a wallet's first event of this type.
fn position_of(events: &[RecordedEvent], event_type: &str) -> u64 {
    events.iter().find(|e| e.event_type == event_type).unwrap().position
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The report with runs of spaces collapsed, so assertions need not know the column widths.
fn words(report: &str) -> String {
    report.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_data_passes_the_audit_and_the_chain_prints_the_head_digest() {
    let h = Harness::new().await;
    let (first, _) = h.busy_wallet().await;
    let (second, _) = h.busy_wallet().await;
    h.catch_up().await;

    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    assert!(report.contains("audited 2 wallets, 14 events, 0 findings"), "{report}");
    let (status, report) = h.cli(&["audit", "wallet", &second.to_string()]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    assert!(report.contains("audited 1 wallets, 7 events, 0 findings"), "{report}");

    let head = h.store.head().await.unwrap();
    assert_eq!(head.position, 14);
    let (status, report) = h.cli(&["verify-chain"]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    assert_eq!(report.trim(), format!("chain ok: 14 events, head position 14, hash {}", hex(&head.hash)));

    let (status, report) = h.cli(&["export", "wallet", &first.to_string()]).await;
    assert_eq!(status, ExitStatus::Success);
    let lines: Vec<serde_json::Value> = report.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let events = h.events(first).await;
    assert_eq!(lines.len(), events.len());
    assert_eq!(lines[1]["payload"], events[1].payload);
    assert_eq!(lines[1]["hash"], hex(&events[1].hash));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_projector_is_reported_as_lag_and_an_unknown_wallet_as_not_found() {
    let h = Harness::new().await;
    let (user, _) = h.busy_wallet().await;
    h.catch_up().await;
    h.run_ok(user, WalletCommand::CreditTopUp { top_up_id: Uuid::now_v7(), provider: sandbox(), amount: money("5.00") }).await;

    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    assert!(report.contains("is at position 7 of 8: 1 events behind"), "{report}");
    assert!(report.contains("1 events not yet projected"), "{report}");
    assert!(report.contains("audited 1 wallets, 8 events, 0 findings"), "{report}");

    let stranger = Uuid::now_v7();
    let (status, report) = h.cli(&["audit", "wallet", &stranger.to_string()]).await;
    assert_eq!(status, ExitStatus::NotFound, "{report}");
    assert!(report.contains(&format!("wallet {stranger} not found")), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_payload_breaks_the_chain_at_its_position_and_fails_the_audit() {
    let h = Harness::new().await;
    let (_, _) = h.busy_wallet().await;
    let (victim, top_up) = h.busy_wallet().await;
    h.catch_up().await;
    assert_eq!(h.cli(&["verify-chain"]).await.0, ExitStatus::Success);

    // The events table refuses updates; an attacker with database access drops the guard first.
    h.execute("DROP TRIGGER events_forbid_update").await;
    let changed = h
        .execute(&format!("UPDATE events SET payload = REPLACE(payload, '\"100.00\"', '\"900.00\"') WHERE position = {top_up}"))
        .await;
    assert_eq!(changed, 1);

    let (status, report) = h.cli(&["verify-chain"]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(report.starts_with(&format!("chain broken at position {top_up}: stored hash ")), "{report}");
    assert_eq!(report.lines().count(), 1, "{report}");

    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(report.contains(&format!("wallet {victim} position {top_up}: ")), "{report}");
    assert!(!report.contains(" 0 findings"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_balance_that_still_decodes_disagrees_with_the_postings() {
    let h = Harness::new().await;
    let (victim, _) = h.busy_wallet().await;
    h.catch_up().await;
    let debit = position_of(&h.events(victim).await, "WalletDebited");

    h.execute("DROP TRIGGER events_forbid_update").await;
    let changed = h
        .execute(&format!(
            "UPDATE events SET payload = REPLACE(payload, '\"balance_after\":\"70.00\"', '\"balance_after\":\"75.00\"') \
             WHERE position = {debit}"
        ))
        .await;
    assert_eq!(changed, 1);

    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(report.contains(&format!("wallet {victim} position {debit}: balance_after recorded 75.00, recomputed 70.00")), "{report}");
    assert!(
        report.contains(&format!("wallet {victim} position {debit}: wallet_transactions.balance_after is 70.00, the event says 75.00")),
        "{report}"
    );
    // The next event is back in step with the postings, so it is not reported again.
    assert!(report.contains("audited 1 wallets, 7 events, 2 findings"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_a_database_whose_migrations_are_not_all_applied() {
    let h = Harness::new().await;
    let count_tables = async || -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")
            .fetch_one(&h.db.pool)
            .await
            .unwrap()
    };
    let tables_before = count_tables().await;
    h.execute("DELETE FROM _sqlx_migrations WHERE version = 11").await;
    let cli = Cli::try_parse_from(["ispeaker-replay", "--database-url", h.db.url.as_str(), "verify-chain"]).unwrap();
    let error = replay_tools::run(cli, &mut Vec::new()).await.unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("migrations not applied: 11 "), "{message}");
    assert_eq!(error.code(), 4, "a schema not migrated: {message}");
    assert_eq!(count_tables().await, tables_before, "the tool created nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_transaction_row_is_named_by_wallet_and_position() {
    let h = Harness::new().await;
    let (_, _) = h.busy_wallet().await;
    let (victim, _) = h.busy_wallet().await;
    h.catch_up().await;
    let debit = position_of(&h.events(victim).await, "WalletDebited");

    let changed = h.execute(&format!("UPDATE wallet_transactions SET balance_after = balance_after + 1 WHERE position = {debit}")).await;
    assert_eq!(changed, 1);

    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(
        report.contains(&format!("wallet {victim} position {debit}: wallet_transactions.balance_after is 71.00, the event says 70.00")),
        "{report}"
    );
    assert!(report.contains("audited 2 wallets, 14 events, 1 findings"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_balance_row_fails_the_audit() {
    let h = Harness::new().await;
    let (victim, _) = h.busy_wallet().await;
    h.catch_up().await;

    let changed = h.execute(&format!("UPDATE wallet_balances SET balance = balance + 5 WHERE user_id = UNHEX('{}')", victim.simple())).await;
    assert_eq!(changed, 1);

    let (status, report) = h.cli(&["audit", "wallet", &victim.to_string()]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(
        report.contains(&format!("wallet {victim}: wallet_balances.balance is 85.00, replaying the log to position 7 gives 80.00")),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_restores_edited_read_models_to_exactly_the_rows_the_log_gives() {
    let h = Harness::new().await;
    let (_, _) = h.busy_wallet().await;
    let (victim, _) = h.busy_wallet().await;
    h.catch_up().await;
    let before = h.read_models().await;
    assert_eq!(before.0.len(), 10, "five owner-visible movements per wallet");

    h.execute("UPDATE wallet_transactions SET balance_after = balance_after + 1, description = 'edited' WHERE position = 10").await;
    h.execute(&format!("DELETE FROM wallet_balances WHERE user_id = UNHEX('{}')", victim.simple())).await;
    assert_ne!(h.read_models().await, before);
    assert_eq!(h.cli(&["audit", "wallet", "--all"]).await.0, ExitStatus::Mismatch);

    let (status, report) = h.cli(&["rebuild", "wallets"]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    assert_eq!(report.trim(), "rebuilt wallets: 14 events, position 14");
    assert_eq!(h.read_models().await, before);
    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");

    let (status, report) = h.cli(&["rebuild", "--all"]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    let expected: String = projections::all().iter().map(|p| format!("rebuilt {}: 14 events, position 14\n", p.name())).collect();
    assert_eq!(report, expected);
    assert_eq!(h.read_models().await, before);
}

#[test]
fn rebuild_refuses_an_unknown_projection_and_names_the_known_ones() {
    let parse = |args: &[&str]| Cli::try_parse_from([&["ispeaker-replay", "--database-url", "mysql://x/y"][..], args].concat());
    let error = parse(&["rebuild", "wallet"]).unwrap_err().to_string();
    assert!(error.contains("wallets") && error.contains("ledger"), "{error}");
    assert!(parse(&["rebuild"]).is_err(), "a projection or --all is required");
    assert!(parse(&["rebuild", "wallets", "--all"]).is_err(), "not both");
    assert!(parse(&["rebuild", "ledger"]).is_ok());
    assert!(parse(&["audit", "wallet"]).is_err(), "a user id or --all is required");
    assert!(parse(&["balance", &Uuid::now_v7().to_string(), "--as-of", "yesterday"]).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_as_of_replays_only_the_events_recorded_by_then() {
    let h = Harness::new().await;
    let (user, top_up) = h.busy_wallet().await;
    let events = h.events(user).await;
    let at = |position: u64| events.iter().find(|e| e.position == position).unwrap().recorded_at;
    assert!(at(top_up) < at(top_up + 1), "the debit was recorded after the top-up");
    let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let user_id = user.to_string();

    let (status, report) = h.cli(&["balance", &user_id, "--as-of", &time(at(top_up))]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    let report = words(&report);
    assert!(report.contains("available: 100.00 SAR pending: 0.00 SAR total earned: 0.00 SAR total withdrawn: 0.00 SAR"), "{report}");
    assert!(report.contains(&format!("last event: position {top_up} ")), "{report}");

    let (status, report) = h.cli(&["balance", &user_id, "--as-of", &time(Utc::now())]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    let report = words(&report);
    assert!(report.contains("available: 80.00 SAR pending: 0.00 SAR total earned: 20.00 SAR total withdrawn: 10.00 SAR"), "{report}");
    assert!(report.contains(&format!("last event: position {} ", events.last().unwrap().position)), "{report}");

    let before_opening = time(events[0].recorded_at - Duration::microseconds(1));
    let (status, report) = h.cli(&["balance", &user_id, "--as-of", &before_opening]).await;
    assert_eq!(status, ExitStatus::NotFound, "{report}");
    assert!(report.contains("did not exist"), "{report}");

    let stranger = Uuid::now_v7().to_string();
    let (status, report) = h.cli(&["balance", &stranger, "--as-of", &time(Utc::now())]).await;
    assert_eq!(status, ExitStatus::NotFound, "{report}");
    assert!(report.contains("not found"), "{report}");
}

/// A row inserted past the head (with a made-up hash, or with a hash an attacker chained
/// correctly): verify-chain and the audit read every row, not only up to the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_past_the_head_break_the_chain_and_fail_the_audit() {
    let h = Harness::new().await;
    h.busy_wallet().await;
    h.catch_up().await;
    let head = h.store.head().await.unwrap();
    let plant = |hash: String| {
        format!(
            "INSERT INTO events (position, event_id, stream_type, stream_id, stream_version, event_type, schema_version, payload, metadata, recorded_at, hash) \
             SELECT position + 1, UNHEX(REPLACE(UUID(), '-', '')), stream_type, stream_id, stream_version + 1, event_type, schema_version, payload, metadata, recorded_at, {hash} \
             FROM events WHERE position = {}",
            head.position
        )
    };
    h.execute(&plant("UNHEX(REPEAT('ab', 32))".to_owned())).await;

    let (status, report) = h.cli(&["verify-chain"]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(report.starts_with(&format!("chain broken at position {}: stored hash ", head.position + 1)), "{report}");
    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(report.contains("rows exist past the head of the log"), "{report}");

    // Chained correctly, it still lies past the head.
    h.execute("DROP TRIGGER events_forbid_delete").await;
    h.execute(&format!("DELETE FROM events WHERE position = {}", head.position + 1)).await;
    let mut forged = h.store.read_all_stored(head.position - 1, 1).await.unwrap().remove(0);
    forged.position = head.position + 1;
    forged.stream_version += 1;
    forged.event_id = Uuid::now_v7();
    forged.hash = event_store::chain_hash(&head.hash, &forged);
    sqlx::query(
        "INSERT INTO events (position, event_id, stream_type, stream_id, stream_version, event_type, schema_version, payload, metadata, recorded_at, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(forged.position)
    .bind(forged.event_id)
    .bind(&forged.stream.stream_type)
    .bind(&forged.stream.stream_id)
    .bind(forged.stream_version)
    .bind(&forged.event_type)
    .bind(forged.schema_version)
    .bind(&forged.payload)
    .bind(&forged.metadata)
    .bind(forged.recorded_at.naive_utc())
    .bind(&forged.hash[..])
    .execute(&h.db.pool)
    .await
    .unwrap();
    let (status, report) = h.cli(&["verify-chain"]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(report.contains("rows exist past the head of the log"), "{report}");
}

/// An event whose amount disagrees with its own postings, and a credit that disagrees with the
/// top-up it names, are findings even though every balance still adds up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_checks_amounts_against_postings_and_credits_against_their_top_ups() {
    let h = Harness::new().await;
    let (victim, _) = h.busy_wallet().await;
    let none = CommandContext::default();
    let commands::Transacted::Done { value: top_up, .. } = h.commands.wallet.request_top_up(victim, sandbox(), money("12.00"), &none).await.unwrap() else {
        panic!("a new top-up");
    };
    let top_up_id = top_up.state.id().unwrap();
    let captured = h.commands.wallet.capture_top_up(top_up_id, &sandbox(), "evt-1", money("12.00"), &none).await.unwrap().position().unwrap();
    h.catch_up().await;
    assert_eq!(h.cli(&["audit", "wallet", "--all"]).await.0, ExitStatus::Success);
    let debit = position_of(&h.events(victim).await, "WalletDebited");

    h.execute("DROP TRIGGER events_forbid_update").await;
    // The debit says 3.00 where its postings move 30.00.
    h.execute(&format!("UPDATE events SET payload = JSON_SET(payload, '$.amount', '3.00') WHERE position = {debit}")).await;
    // The credit, its postings and its balances all say 21.00; the top-up was for 12.00.
    let credit = h.events(victim).await.iter().find(|e| e.event_type == "TopUpCaptured" && e.position <= captured && e.payload["top_up_id"] == top_up_id.to_string()).unwrap().position;
    h.execute(&format!("UPDATE events SET payload = REPLACE(payload, '12.00', '21.00') WHERE position = {credit}")).await;

    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(report.contains(&format!("wallet {victim} position {debit}: amount 3.00, but its postings move 30.00")), "{report}");
    assert!(report.contains(&format!("wallet {victim} position {credit}: credits 21.00 for top-up {top_up_id}, which was for 12.00")), "{report}");
}

/// A port nothing listens on: bound by the test, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn run_with_url(url: &str) -> replay_tools::Failure {
    let cli = Cli::try_parse_from(["ispeaker-replay", "--quiet", "--database-url", url, "verify-chain"]).unwrap();
    replay_tools::run(cli, &mut Vec::new()).await.unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_reported_at_once_with_its_reason_and_exit_code_3() {
    let port = closed_port();
    let started = std::time::Instant::now();
    let failure = run_with_url(&format!("mysql://ispeaker:not-to-be-printed@127.0.0.1:{port}/ispeaker")).await;
    let message = failure.to_string();
    assert_eq!(failure.code(), 3, "{message}");
    assert_eq!(failure.kind, replay_tools::FailureKind::DatabaseUnreachable);
    assert!(message.starts_with(&format!("cannot connect to the database at 127.0.0.1:{port}: ")), "{message}");
    assert!(message.to_lowercase().contains("connection refused"), "{message}");
    assert!(!message.contains("not-to-be-printed"), "the password leaked: {message}");
    // A pool would have retried until its timeout and then said only that it timed out.
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_url_of_another_database_is_refused_as_a_usage_error() {
    for url in ["postgres://ispeaker:not-to-be-printed@localhost/ispeaker", "localhost:3306"] {
        let failure = run_with_url(url).await;
        let message = failure.to_string();
        assert_eq!(failure.code(), 2, "{url}: {message}");
        assert!(message.contains("must start with mysql:// or mariadb://"), "{message}");
        assert!(!message.contains("not-to-be-printed"), "the password leaked: {message}");
    }
    assert!(run_with_url("postgres://localhost/x").await.to_string().contains("not a postgres:// URL"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_a_user_redacts_the_password_hash_and_says_so() {
    use commands::users::Registration;
    use domain::users::{DisplayName, Email, Language, Role, Username};
    let h = Harness::new().await;
    let password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$ZXhwb3J0LXRlc3QtaGFzaC12YWx1ZQ";
    let registration = Registration {
        name: DisplayName::parse("Export Test").unwrap(),
        username: Username::parse("export_test").unwrap(),
        email: Email::parse("export@example.com").unwrap(),
        password_hash: password_hash.to_owned(),
        roles: vec![Role::Student],
        language: Language::En,
        registered_at: Utc::now(),
    };
    let user = h.commands.users.register(registration, CommandContext::default()).await.unwrap().user_id;

    let (status, report) = h.cli(&["export", "user", &user.to_string()]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    assert!(!report.contains(password_hash), "{report}");
    assert!(!report.contains("argon2"), "{report}");
    let registered: serde_json::Value = serde_json::from_str(report.lines().next().unwrap()).unwrap();
    assert_eq!(registered["event_type"], "UserRegistered", "{report}");
    assert_eq!(registered["payload"]["password_hash"], serde_json::json!({ "$redacted": true }), "{report}");
    assert_eq!(registered["redacted"], serde_json::json!(["payload.password_hash"]), "{report}");
    // Only the secret goes: the rest of the personal data is opened for the operator as before.
    assert_eq!(registered["payload"]["email"], serde_json::json!({ "$personal": "export@example.com" }), "{report}");
}
