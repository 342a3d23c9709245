//! `balance --as-of`: a wallet replayed from the events recorded up to a moment.

use std::io::Write;

use anyhow::Context;
use domain::kernel::Aggregate;
use domain::wallet::{Wallet, WalletEvent};
use event_store::EventStore;

use crate::{BalanceArgs, ExitStatus, rfc3339, sar};

pub(crate) async fn balance(store: &EventStore, args: &BalanceArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let user = args.user_id;
    let recorded = store
        .read_stream(commands::wallet::stream(user).stream_ref(), 0)
        .await
        .with_context(|| format!("cannot read wallet {user}; `audit wallet {user}` reports what is wrong"))?;
    let Some(first) = recorded.first() else {
        writeln!(out, "wallet {user} not found: the log has no events for it")?;
        return Ok(ExitStatus::NotFound);
    };
    let counted: Vec<_> = recorded.iter().take_while(|event| event.recorded_at <= args.as_of).collect();
    let Some(last) = counted.last() else {
        writeln!(
            out,
            "wallet {user} did not exist at {}: its first event was recorded at {}",
            rfc3339(args.as_of),
            rfc3339(first.recorded_at)
        )?;
        return Ok(ExitStatus::NotFound);
    };
    let events = counted
        .iter()
        .map(|event| {
            commands::stream::decode::<WalletEvent>(event)
                .with_context(|| format!("wallet {user} position {}: cannot be decoded; run `audit wallet {user}`", event.position))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let wallet = Wallet::replay(&events);
    writeln!(out, "wallet {user} as of {}", rfc3339(args.as_of))?;
    writeln!(out, "available:       {} SAR", sar(wallet.available().amount()))?;
    writeln!(out, "pending:         {} SAR", sar(wallet.pending().amount()))?;
    writeln!(out, "total earned:    {} SAR", sar(wallet.total_earned().amount()))?;
    writeln!(out, "total withdrawn: {} SAR", sar(wallet.total_withdrawn().amount()))?;
    writeln!(out, "last event:      position {} recorded at {}", last.position, rfc3339(last.recorded_at))?;
    Ok(ExitStatus::Success)
}
