//! The operators' CLI, run in-process against real wallets built through the command layer, and
//! against corruption planted the way an attacker or a bug would plant it.

use chrono::{Duration, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use clap::Parser;
use commands::{CommandContext, wallet_stream};
use domain::ledger::ProviderName;
use domain::money::Money;
use domain::wallet::{PurchaseCategory, WalletCommand};
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
                order_id: Uuid::now_v7(),
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

    /// Runs the CLI in-process: its exit status and report.
    async fn cli(&self, args: &[&str]) -> (ExitStatus, String) {
        let mut argv = vec!["ispeaker-replay", "--quiet", "--database-url", self.db.url.as_str()];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).unwrap();
        let mut out = Vec::new();
        let status = replay_tools::run(cli, &mut out).await.unwrap();
        (status, String::from_utf8(out).unwrap())
    }

    async fn events(&self, user: Uuid) -> Vec<RecordedEvent> {
        self.store.read_stream(&wallet_stream(user), 0).await.unwrap()
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
