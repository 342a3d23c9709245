//! `verify-chain`: every event's hash recomputed from its content and the previous hash.

use std::io::Write;

use event_store::{EventStore, GENESIS_HASH, chain_hash};

use crate::ExitStatus;
use crate::progress::Progress;

/// Events read per query while verifying.
const CHAIN_BATCH_EVENTS: usize = 5000;

pub(crate) async fn verify_chain(store: &EventStore, progress: &Progress, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    // The head is read first and the scan stops there, so appends made meanwhile are not
    // mistaken for a mismatch; they are covered by the next run.
    let head = store.head().await?;
    let bar = progress.bar(head.position, "verifying chain");
    let mut previous = GENESIS_HASH;
    let mut position = 0;
    'batches: while position < head.position {
        let batch = store.read_all_stored(position, CHAIN_BATCH_EVENTS).await?;
        if batch.is_empty() {
            break;
        }
        for event in &batch {
            if event.position > head.position {
                break 'batches;
            }
            let expected = position + 1;
            if event.position != expected {
                bar.finish_and_clear();
                writeln!(out, "chain broken at position {expected}: the event is missing, the next stored one is at position {}", event.position)?;
                return Ok(ExitStatus::Mismatch);
            }
            let recomputed = chain_hash(&previous, event);
            if recomputed != event.hash {
                bar.finish_and_clear();
                writeln!(
                    out,
                    "chain broken at position {expected}: stored hash {}, recomputed {}",
                    hex::encode(event.hash),
                    hex::encode(recomputed)
                )?;
                return Ok(ExitStatus::Mismatch);
            }
            previous = event.hash;
            position = event.position;
        }
        bar.set_position(position);
    }
    bar.finish_and_clear();
    if position != head.position {
        writeln!(out, "chain broken at position {}: the log ends at position {position}, the head says {}", position + 1, head.position)?;
        return Ok(ExitStatus::Mismatch);
    }
    if previous != head.hash {
        writeln!(
            out,
            "chain broken at position {position}: head hash {}, recomputed {}",
            hex::encode(head.hash),
            hex::encode(previous)
        )?;
        return Ok(ExitStatus::Mismatch);
    }
    writeln!(out, "chain ok: {position} events, head position {}, hash {}", head.position, hex::encode(head.hash))?;
    Ok(ExitStatus::Success)
}
