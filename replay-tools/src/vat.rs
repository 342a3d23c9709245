//! `vat-report --from --to [--csv]`: the VAT report of a period as finance files it, from the
//! invoices read model, reconciled with the ledger: the VAT-payable account's movement over the
//! same period, and the sales' net postings to revenue, recomputed here from the events' own
//! journal entries. Both sides stop at the position the invoices were built up to, so a lagging
//! projection is reported, never mistaken for a difference.

use std::io::Write;

use domain::kernel::DomainEvent;
use domain::ledger::Account;
use domain::wallet::{PURCHASE_REFUNDED, WALLET_DEBITED, WalletEvent};
use event_store::EventStore;
use projections::invoicing::InvoicingProjector;
use projections::invoicing::queries::{InvoiceQueries, vat_csv};
use rust_decimal::Decimal;
use sqlx::MySqlPool;

use crate::progress::Progress;
use crate::{ExitStatus, VatReportArgs, rfc3339, sar};

/// Events read per query while summing the ledger.
const LEDGER_BATCH_EVENTS: usize = 5000;

pub(crate) async fn vat_report(store: &EventStore, pool: &MySqlPool, args: &VatReportArgs, progress: &Progress, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let invoices = InvoiceQueries::new(pool.clone());
    if args.csv {
        write!(out, "{}", vat_csv(&invoices.vat_rows(args.from, args.to).await?))?;
        return Ok(ExitStatus::Success);
    }
    let built_to = projections::checkpoint(pool, InvoicingProjector::NAME).await?.map_or(0, |(_, position)| position);
    let totals = invoices.vat_totals(args.from, args.to).await?;
    let ledger = ledger_movement(store, args, built_to, progress).await?;
    let head = store.head().await?.position;

    writeln!(out, "VAT report from {} to {} (invoices built to position {built_to} of {head})", rfc3339(args.from), rfc3339(args.to))?;
    writeln!(out, "invoices:        {:>6}  net {:>14}  VAT {:>14}", totals.invoice_count, sar(totals.sales_net), sar(totals.vat_collected))?;
    writeln!(out, "credit notes:    {:>6}  net {:>14}  VAT {:>14}", totals.credit_note_count, sar(totals.credit_notes_net), sar(totals.credit_notes_vat))?;
    writeln!(out, "net VAT due:     {:>14}", sar(totals.net_vat_due()))?;
    let invoiced_net = totals.sales_net - totals.credit_notes_net;
    let checks = [("VAT payable", totals.net_vat_due(), ledger.vat_payable), ("net sales", invoiced_net, ledger.sales_net)];
    let mut reconciled = true;
    for (name, documents, posted) in checks {
        if documents == posted {
            writeln!(out, "ledger {name}: {} moved in the period: reconciled", sar(posted))?;
        } else {
            reconciled = false;
            writeln!(out, "ledger {name}: {} moved in the period, the documents say {}: difference {}", sar(posted), sar(documents), sar(documents - posted))?;
        }
    }
    if built_to < head {
        writeln!(out, "note: {} events past position {built_to} are not in the invoices yet, nor in this reconciliation", head - built_to)?;
    }
    Ok(if reconciled { ExitStatus::Success } else { ExitStatus::Mismatch })
}

/// What the ledger moved in the period, credit-normal (a credit to VAT payable counts positive).
#[derive(Default)]
struct Movement {
    vat_payable: Decimal,
    /// Sales' postings to revenue: debits' nets less refunds' nets.
    sales_net: Decimal,
}

async fn ledger_movement(store: &EventStore, args: &VatReportArgs, up_to: u64, progress: &Progress) -> anyhow::Result<Movement> {
    let bar = progress.bar(up_to, "summing the ledger");
    let mut movement = Movement::default();
    let mut position = 0;
    while position < up_to {
        let batch = store.read_all_stored(position, LEDGER_BATCH_EVENTS).await?;
        let Some(last) = batch.last() else { break };
        position = last.position;
        let sales: Vec<_> = batch
            .into_iter()
            .filter(|event| {
                event.position <= up_to
                    && WalletEvent::declares(&event.event_type)
                    && event.recorded_at >= args.from
                    && event.recorded_at < args.to
            })
            .collect();
        for event in store.decode(sales).await? {
            let wallet_event = WalletEvent::decode(&event.event_type, event.schema_version, &event.payload)
                .map_err(|error| anyhow::anyhow!("position {}: {error}", event.position))?;
            let Some(postings) = wallet_event.postings() else { continue };
            // Every posting to VAT payable counts; revenue only from sales and their refunds
            // (earnings move revenue to speakers, which is not a sale).
            movement.vat_payable -= postings.balance_of(&Account::VatPayable);
            if event.event_type == WALLET_DEBITED.name || event.event_type == PURCHASE_REFUNDED.name {
                movement.sales_net -= postings.balance_of(&Account::PlatformRevenue);
            }
        }
        bar.set_position(position.min(up_to));
    }
    bar.finish_and_clear();
    Ok(movement)
}
