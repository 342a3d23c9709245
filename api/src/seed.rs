//! Demo data for a fresh development database, written as events through the command layer
//! like any other change. Idempotency keys make a second run a no-op.

use chrono::{Duration, Utc};
use commands::{CommandContext, CommandError, WalletCommands};
use domain::ledger::ProviderName;
use domain::money::{Money, vat_split};
use domain::wallet::{PurchaseCategory, WalletCommand, WalletError};
use uuid::Uuid;

/// Fixed ids, so the demo is the same on every machine.
pub const DEMO_STUDENT: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
pub const DEMO_SPEAKER: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);

pub async fn seed_demo_data(wallets: &WalletCommands) -> Result<(), CommandError> {
    let sandbox = ProviderName::parse("sandbox").expect("valid provider");
    let order = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0101);
    let price = Money::parse("115.00").expect("valid amount");
    let (_, vat) = vat_split(price);
    let steps: Vec<(Uuid, &str, WalletCommand)> = vec![
        (DEMO_STUDENT, "open", WalletCommand::Open { user_id: DEMO_STUDENT }),
        (DEMO_SPEAKER, "open", WalletCommand::Open { user_id: DEMO_SPEAKER }),
        (
            DEMO_STUDENT,
            "top-up",
            WalletCommand::CreditTopUp {
                top_up_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0201),
                provider: sandbox,
                amount: Money::parse("500.00").expect("valid amount"),
            },
        ),
        (
            DEMO_STUDENT,
            "purchase",
            WalletCommand::DebitForPurchase {
                order_id: order,
                category: PurchaseCategory::Course,
                gross: price,
                vat,
                description: "Public speaking fundamentals".into(),
            },
        ),
        (
            DEMO_SPEAKER,
            "earning",
            WalletCommand::AddPendingEarnings {
                order_id: order,
                amount: Money::parse("80.00").expect("valid amount"),
                release_at: Utc::now() + Duration::days(7),
                description: "Sale: Public speaking fundamentals".into(),
            },
        ),
    ];
    for (user, step, command) in steps {
        let context = CommandContext::idempotent(format!("seed:{user}:{step}"));
        match wallets.execute(user, command, context).await {
            Ok(_) | Err(CommandError::Rejected(WalletError::AlreadyOpen)) => {}
            Err(error) => return Err(error),
        }
    }
    tracing::info!(student = %DEMO_STUDENT, speaker = %DEMO_SPEAKER, "demo data seeded");
    Ok(())
}
