//! `audit wallet`: each wallet's balances recomputed from its journal entries alone, then
//! compared with what its events recorded and with both wallet read models.
//!
//! The read models are compared only as far as the wallets projector has got: events after its
//! checkpoint are reported as lag, not as corruption. Read-model rows are read before the log,
//! so every row the audit sees refers to an event the log read will also see.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io::Write;

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::kernel::{Aggregate, DomainEvent};
use domain::ledger::{Account, natural_balance};
use domain::wallet::top_up::{TopUp, TopUpEvent, TopUpStatus};
use domain::wallet::{STREAM_TYPE, Wallet, WalletEvent};
use event_store::{EventStore, EventStoreError, RecordedEvent};
use projections::wallet::{TransactionRow, WalletProjector};
use rust_decimal::Decimal;
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

use crate::progress::Progress;
use crate::{AuditWalletArgs, ExitStatus, rfc3339, sar};

/// The projector that owns `wallet_balances` and `wallet_transactions`.
const WALLETS_PROJECTOR: &str = WalletProjector::NAME;

/// One difference the audit found.
struct Finding {
    wallet: String,
    position: Option<u64>,
    message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(position) => write!(f, "wallet {} position {position}: {}", self.wallet, self.message),
            None => write!(f, "wallet {}: {}", self.wallet, self.message),
        }
    }
}

/// What auditing one wallet found.
#[derive(Default)]
struct WalletAudit {
    events: u64,
    /// Events after the projector's checkpoint, compared with the log only.
    unprojected: u64,
    findings: Vec<Finding>,
}

impl WalletAudit {
    fn find(&mut self, wallet: impl fmt::Display, position: Option<u64>, message: impl Into<String>) {
        self.findings.push(Finding { wallet: wallet.to_string(), position, message: message.into() });
    }
}

/// A `wallet_balances` row as stored.
struct BalanceRecord {
    balance: Decimal,
    pending_balance: Decimal,
    total_earned: Decimal,
    total_withdrawn: Decimal,
    last_position: u64,
}

/// A `wallet_transactions` row as stored.
struct TransactionRecord {
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
    description_ar: String,
    created_at: DateTime<Utc>,
}

impl TransactionRecord {
    fn from_row(row: &MySqlRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            position: row.try_get("position")?,
            user_id: row.try_get("user_id")?,
            direction: row.try_get("direction")?,
            category: row.try_get("category")?,
            amount: row.try_get("amount")?,
            balance_after: row.try_get("balance_after")?,
            pending_balance_after: row.try_get("pending_balance_after")?,
            reference: row.try_get("reference")?,
            related_type: row.try_get("related_type")?,
            related_id: row.try_get("related_id")?,
            description: row.try_get("description")?,
            description_ar: row.try_get("description_ar")?,
            created_at: row.try_get::<NaiveDateTime, _>("created_at")?.and_utc(),
        })
    }
}

pub(crate) async fn audit_wallets(
    store: &EventStore,
    args: &AuditWalletArgs,
    progress: &Progress,
    out: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let pool = store.pool();
    let checkpoint = projections::checkpoint(pool, WALLETS_PROJECTOR).await?;
    let projected = checkpoint.map_or(0, |(_, position)| position);
    let head = store.head().await?.position;
    match checkpoint {
        None => writeln!(out, "the {WALLETS_PROJECTOR} projector has not run: read models are expected to be empty")?,
        Some((version, position)) if position < head => writeln!(
            out,
            "the {WALLETS_PROJECTOR} projector (version {version}) is at position {position} of {head}: \
             {} events behind; read models are compared up to position {position}",
            head - position
        )?,
        Some((version, position)) => {
            writeln!(out, "the {WALLETS_PROJECTOR} projector (version {version}) is current at position {position}")?
        }
    }

    let mut total = WalletAudit::default();
    let mut wallets = 0u64;
    // Audits read every row, not only those up to the head: a row past it is the writer's work
    // of no one.
    let last_row = store.last_row_position().await?;
    // Appends made since the head was read are not past it: read it again before calling it.
    if last_row > head && last_row > store.head().await?.position {
        total.find("log", None, format!("rows exist past the head of the log (head {head}, last row {last_row}): the store is corrupt"));
    }
    let user_ids: Vec<Uuid> = match args.user_id {
        Some(user) => vec![user],
        None => {
            // Read-model owners first, then the streams: a wallet opened in between has a stream.
            let owners = read_model_owners(pool).await?;
            let streams: Vec<String> =
                sqlx::query_scalar("SELECT DISTINCT stream_id FROM events WHERE stream_type = ? ORDER BY stream_id")
                    .bind(STREAM_TYPE)
                    .fetch_all(pool)
                    .await?;
            let mut users = Vec::with_capacity(streams.len());
            for stream_id in streams {
                match Uuid::try_parse(&stream_id) {
                    Ok(user) if user.hyphenated().to_string() == stream_id => users.push(user),
                    _ => total.find(&stream_id, None, "the wallet stream's id is not a canonical user id"),
                }
            }
            let known: HashSet<Uuid> = users.iter().copied().collect();
            for owner in owners.into_iter().filter(|owner| !known.contains(owner)) {
                total.find(owner, None, "read-model rows exist for a wallet the log does not have");
            }
            users
        }
    };

    let bar = progress.bar(user_ids.len() as u64, "auditing wallets");
    for user in &user_ids {
        let audit = audit_wallet(store, *user, projected).await?;
        if args.user_id.is_some() && audit.events == 0 && audit.findings.is_empty() {
            bar.finish_and_clear();
            writeln!(out, "wallet {user} not found: the log has no events for it")?;
            return Ok(ExitStatus::NotFound);
        }
        wallets += 1;
        total.events += audit.events;
        total.unprojected += audit.unprojected;
        total.findings.extend(audit.findings);
        bar.inc(1);
    }
    bar.finish_and_clear();

    for finding in &total.findings {
        writeln!(out, "{finding}")?;
    }
    if total.unprojected > 0 {
        writeln!(out, "{} events not yet projected were checked against the log only", total.unprojected)?;
    }
    writeln!(out, "audited {wallets} wallets, {} events, {} findings", total.events, total.findings.len())?;
    Ok(if total.findings.is_empty() { ExitStatus::Success } else { ExitStatus::Mismatch })
}

async fn read_model_owners(pool: &MySqlPool) -> Result<BTreeSet<Uuid>, sqlx::Error> {
    let owners: Vec<Uuid> = sqlx::query_scalar("SELECT user_id FROM wallet_balances UNION SELECT user_id FROM wallet_transactions")
        .fetch_all(pool)
        .await?;
    Ok(owners.into_iter().collect())
}

async fn audit_wallet(store: &EventStore, user: Uuid, projected: u64) -> anyhow::Result<WalletAudit> {
    let pool = store.pool();
    let mut audit = WalletAudit::default();

    // The read model before the log (see the module comment).
    let balance_row = sqlx::query(
        "SELECT balance, pending_balance, total_earned, total_withdrawn, last_position FROM wallet_balances WHERE user_id = ?",
    )
    .bind(user)
    .fetch_optional(pool)
    .await?
    .map(|row| -> Result<BalanceRecord, sqlx::Error> {
        Ok(BalanceRecord {
            balance: row.try_get("balance")?,
            pending_balance: row.try_get("pending_balance")?,
            total_earned: row.try_get("total_earned")?,
            total_withdrawn: row.try_get("total_withdrawn")?,
            last_position: row.try_get("last_position")?,
        })
    })
    .transpose()?;
    let transaction_rows: HashMap<Uuid, TransactionRecord> = sqlx::query(
        "SELECT id, position, user_id, direction, category, amount, balance_after, pending_balance_after, reference, \
         related_type, related_id, description, description_ar, created_at FROM wallet_transactions WHERE user_id = ? ORDER BY position",
    )
    .bind(user)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| TransactionRecord::from_row(row).map(|record| (record.id, record)))
    .collect::<Result<_, _>>()?;

    let recorded = match store.read_stream(commands::wallet::stream(user).stream_ref(), 0).await {
        Ok(recorded) => recorded,
        Err(error @ (EventStoreError::Corrupt { .. } | EventStoreError::Upcast { .. })) => {
            audit.find(user, None, format!("the stream cannot be read: {error}"));
            return Ok(audit);
        }
        Err(error) => return Err(error.into()),
    };
    audit.events = recorded.len() as u64;
    if recorded.is_empty() && balance_row.is_none() && transaction_rows.is_empty() {
        return Ok(audit);
    }

    let decoded = check_log(user, &recorded, &mut audit);
    check_top_ups(store, user, &recorded, &decoded, &mut audit).await?;
    check_transactions(user, &recorded, &decoded, &transaction_rows, projected, &mut audit);
    check_balances(user, &recorded, &decoded, balance_row.as_ref(), projected, &mut audit);
    Ok(audit)
}

/// Decodes the stream and recomputes the running balances from the postings alone. Returns the
/// decoded event at each index of `recorded` (`None` where decoding failed).
fn check_log(user: Uuid, recorded: &[RecordedEvent], audit: &mut WalletAudit) -> Vec<Option<WalletEvent>> {
    let available_account = Account::WalletAvailable(user);
    let pending_account = Account::WalletPending(user);
    let mut available = Decimal::ZERO;
    let mut pending = Decimal::ZERO;
    // Recorded minus recomputed. A new difference is reported once, at the event where it
    // appears, not again on every later event that carries it along.
    let mut available_drift = Decimal::ZERO;
    let mut pending_drift = Decimal::ZERO;
    // False after an undecodable event, whose postings the running sums could not include.
    let mut in_step = true;
    let mut decoded = Vec::with_capacity(recorded.len());
    for (index, event) in recorded.iter().enumerate() {
        let position = Some(event.position);
        let expected_version = index as u64 + 1;
        if event.stream_version != expected_version {
            audit.find(user, position, format!("stream version {} where {expected_version} was expected", event.stream_version));
        }
        let wallet_event = match WalletEvent::decode(&event.event_type, event.schema_version, &event.payload) {
            Ok(wallet_event) => wallet_event,
            Err(error) => {
                audit.find(user, position, format!("{} cannot be decoded: {error}", event.event_type));
                in_step = false;
                decoded.push(None);
                continue;
            }
        };
        if wallet_event.user_id() != user {
            audit.find(user, position, format!("the event names user {}", wallet_event.user_id()));
        }
        if (index == 0) != matches!(wallet_event, WalletEvent::WalletOpened { .. }) {
            audit.find(user, position, format!("{} at stream version {}: a wallet opens exactly once, first", event.event_type, event.stream_version));
        }
        if let (Some(postings), Some(balance_after), Some(pending_after)) =
            (wallet_event.postings(), wallet_event.balance_after(), wallet_event.pending_balance_after())
        {
            // Decoding already rejects an unbalanced entry; checked again so the audit does not
            // rest on the decoder alone.
            if !postings.is_balanced() {
                audit.find(user, position, "the postings do not sum to zero");
            }
            for difference in amount_differences(&wallet_event) {
                audit.find(user, position, difference);
            }
            available += natural_balance(&available_account, postings.balance_of(&available_account));
            pending += natural_balance(&pending_account, postings.balance_of(&pending_account));
            let drift = (balance_after.amount() - available, pending_after.amount() - pending);
            // After an undecodable event the drift is taken as it stands: its cause is reported.
            if in_step && !drift.0.is_zero() && drift.0 != available_drift {
                audit.find(user, position, format!("balance_after recorded {balance_after}, recomputed {}", sar(available)));
            }
            if in_step && !drift.1.is_zero() && drift.1 != pending_drift {
                audit.find(user, position, format!("pending_balance_after recorded {pending_after}, recomputed {}", sar(pending)));
            }
            (available_drift, pending_drift) = drift;
            in_step = true;
        }
        decoded.push(Some(wallet_event));
    }
    decoded
}

/// What an event says it moves against what its postings move: the amount is the total its
/// postings debit, and a purchase's VAT is what they credit to VAT payable.
fn amount_differences(event: &WalletEvent) -> Vec<String> {
    let (Some(amount), Some(postings)) = (event.amount(), event.postings()) else { return Vec::new() };
    let mut differences = Vec::new();
    let debited: Decimal = postings.postings().iter().map(|posting| posting.amount).filter(|amount| amount.is_sign_positive()).sum();
    if debited != amount.amount() {
        differences.push(format!("amount {amount}, but its postings move {}", sar(debited)));
    }
    if let WalletEvent::WalletDebited { vat, .. } = event {
        let vat_posted = -postings.balance_of(&Account::VatPayable);
        if vat_posted != vat.amount() {
            differences.push(format!("vat {vat}, but its postings credit VAT payable {}", sar(vat_posted)));
        }
    }
    differences
}

/// Each top-up credit against its top-up stream, when the credit names one that exists: it must
/// have been captured, for this wallet, through the same provider, for the same amount.
async fn check_top_ups(
    store: &EventStore,
    user: Uuid,
    recorded: &[RecordedEvent],
    decoded: &[Option<WalletEvent>],
    audit: &mut WalletAudit,
) -> anyhow::Result<()> {
    for (event, wallet_event) in recorded.iter().zip(decoded) {
        let Some(WalletEvent::TopUpCaptured { top_up_id, provider, amount, .. }) = wallet_event else { continue };
        let stream = commands::wallet::top_up_stream(*top_up_id);
        let top_up = match store.read_stream(stream.stream_ref(), 0).await {
            Ok(events) if events.is_empty() => continue,
            Ok(events) => {
                let decoded: Result<Vec<TopUpEvent>, _> = events.iter().map(commands::stream::decode::<TopUpEvent>).collect();
                match decoded {
                    Ok(decoded) => TopUp::replay(&decoded),
                    Err(error) => {
                        audit.find(user, Some(event.position), format!("top-up {top_up_id} cannot be read: {error}"));
                        continue;
                    }
                }
            }
            Err(error) => return Err(error.into()),
        };
        let position = Some(event.position);
        if top_up.status() != Some(TopUpStatus::Captured) {
            audit.find(user, position, format!("credits top-up {top_up_id}, which was not captured"));
        }
        if top_up.user_id() != Some(user) {
            audit.find(user, position, format!("credits top-up {top_up_id}, which belongs to another user"));
        }
        if top_up.amount() != Some(*amount) {
            let captured = top_up.amount().map_or("nothing".to_owned(), |captured| captured.to_string());
            audit.find(user, position, format!("credits {amount} for top-up {top_up_id}, which was for {captured}"));
        }
        if top_up.provider() != Some(provider) {
            audit.find(user, position, format!("credits top-up {top_up_id} through {provider}, which was paid through another provider"));
        }
    }
    Ok(())
}

/// Compares `wallet_transactions` with the rows the projector must have written.
fn check_transactions(
    user: Uuid,
    recorded: &[RecordedEvent],
    decoded: &[Option<WalletEvent>],
    rows: &HashMap<Uuid, TransactionRecord>,
    projected: u64,
    audit: &mut WalletAudit,
) {
    for (event, wallet_event) in recorded.iter().zip(decoded) {
        let position = Some(event.position);
        if event.position > projected {
            audit.unprojected += 1;
        }
        let Some(wallet_event) = wallet_event else { continue };
        match (projections::wallet::transaction_row(event, wallet_event), rows.get(&event.event_id)) {
            (Some(expected), Some(row)) => {
                for difference in row_differences(&expected, row) {
                    audit.find(user, position, difference);
                }
            }
            (Some(_), None) if event.position <= projected => audit.find(
                user,
                position,
                format!("no wallet_transactions row, though the projector is at position {projected}"),
            ),
            // Not projected yet: lag, counted above.
            (Some(_), None) => {}
            (None, Some(_)) => audit.find(user, position, format!("a wallet_transactions row for {}, which moves nothing the owner sees", event.event_type)),
            (None, None) => {}
        }
    }
    let event_ids: HashSet<Uuid> = recorded.iter().map(|event| event.event_id).collect();
    let mut strays: Vec<&TransactionRecord> = rows.values().filter(|row| !event_ids.contains(&row.id)).collect();
    strays.sort_by_key(|row| row.position);
    for row in strays {
        audit.find(user, Some(row.position), format!("wallet_transactions row {} matches no event of the wallet", row.id));
    }
}

fn row_differences(expected: &TransactionRow, row: &TransactionRecord) -> Vec<String> {
    let columns: [(&str, String, String); 13] = [
        ("position", row.position.to_string(), expected.position.to_string()),
        ("user_id", row.user_id.to_string(), expected.user_id.to_string()),
        ("direction", row.direction.clone(), expected.direction.to_owned()),
        ("category", row.category.clone(), expected.category.to_owned()),
        ("amount", sar(row.amount), sar(expected.amount)),
        ("balance_after", sar(row.balance_after), sar(expected.balance_after)),
        ("pending_balance_after", sar(row.pending_balance_after), sar(expected.pending_balance_after)),
        ("reference", row.reference.clone(), expected.reference.clone()),
        ("related_type", row.related_type.clone(), expected.related_type.to_owned()),
        ("related_id", row.related_id.to_string(), expected.related_id.to_string()),
        ("description", row.description.clone(), expected.description.clone()),
        ("description_ar", row.description_ar.clone(), expected.description_ar.clone()),
        ("created_at", rfc3339(row.created_at), rfc3339(expected.created_at)),
    ];
    columns
        .into_iter()
        .filter(|(_, actual, wanted)| actual != wanted)
        .map(|(column, actual, wanted)| format!("wallet_transactions.{column} is {actual}, the event says {wanted}"))
        .collect()
}

/// Compares `wallet_balances` with the wallet replayed as far as the row claims to have got.
fn check_balances(
    user: Uuid,
    recorded: &[RecordedEvent],
    decoded: &[Option<WalletEvent>],
    row: Option<&BalanceRecord>,
    projected: u64,
    audit: &mut WalletAudit,
) {
    // The projector may have moved on since its checkpoint was read; a row ahead of it is
    // compared at its own position, which must then be one of the wallet's events.
    let upto = row.map_or(projected, |row| row.last_position.max(projected));
    let counted: Vec<(&RecordedEvent, &Option<WalletEvent>)> =
        recorded.iter().zip(decoded).take_while(|(event, _)| event.position <= upto).collect();
    let last_position = counted.last().map(|(event, _)| event.position);
    let row = match (row, last_position) {
        (None, None) => return,
        (None, Some(position)) => {
            audit.find(user, None, format!("no wallet_balances row, though its events up to position {position} are projected"));
            return;
        }
        (Some(row), None) => {
            audit.find(user, None, format!("a wallet_balances row at position {} but no projected event", row.last_position));
            return;
        }
        (Some(row), Some(_)) => row,
    };
    let undecodable: Vec<String> =
        counted.iter().filter(|(_, event)| event.is_none()).map(|(event, _)| event.position.to_string()).collect();
    if !undecodable.is_empty() {
        audit.find(user, None, format!("wallet_balances cannot be verified: positions {} cannot be decoded", undecodable.join(", ")));
        return;
    }
    let wallet = Wallet::replay(counted.iter().filter_map(|(_, event)| event.as_ref()));
    let last_position = last_position.unwrap_or_default();
    let columns = [
        ("balance", row.balance, wallet.available().amount()),
        ("pending_balance", row.pending_balance, wallet.pending().amount()),
        ("total_earned", row.total_earned, wallet.total_earned().amount()),
        ("total_withdrawn", row.total_withdrawn, wallet.total_withdrawn().amount()),
    ];
    for (column, actual, replayed) in columns {
        if actual != replayed {
            audit.find(
                user,
                None,
                format!("wallet_balances.{column} is {}, replaying the log to position {last_position} gives {}", sar(actual), sar(replayed)),
            );
        }
    }
    if row.last_position != last_position {
        audit.find(
            user,
            None,
            format!("wallet_balances.last_position is {}, the wallet's last projected event is at {last_position}", row.last_position),
        );
    }
}
