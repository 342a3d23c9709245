//! `verify-chain`: every stored event's hash recomputed from its content and the previous hash,
//! from the first row to the last — including any row past the head, which only something other
//! than the store's writer can have put there.

use std::io::Write;

use event_store::{EventStore, GENESIS_HASH, chain_hash};

use crate::ExitStatus;
use crate::progress::Progress;

/// Events read per query while verifying.
const CHAIN_BATCH_EVENTS: usize = 5000;

/// With a `digest` published earlier, the recomputed chain must also pass through its hash at its
/// position: a log rewritten with consistent new hashes still fails there.
pub(crate) async fn verify_chain(store: &EventStore, digest: Option<(u64, [u8; 32])>, progress: &Progress, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let bar = progress.bar(store.head().await?.position, "verifying chain");
    let mut previous = GENESIS_HASH;
    let mut position = 0;
    loop {
        let batch = store.read_all_stored(position, CHAIN_BATCH_EVENTS).await?;
        if batch.is_empty() {
            // The end of the rows: the head must stand exactly here. A head further on means
            // appends committed meanwhile, which are read and checked too.
            let head = store.head().await?;
            if head.position > position {
                bar.set_length(head.position);
                continue;
            }
            bar.finish_and_clear();
            if head.position < position {
                writeln!(
                    out,
                    "chain broken at position {}: rows exist past the head of the log (head {}, last row {position}); the store is corrupt",
                    head.position + 1,
                    head.position
                )?;
                return Ok(ExitStatus::Mismatch);
            }
            if previous != head.hash {
                writeln!(out, "chain broken at position {position}: head hash {}, recomputed {}", hex::encode(head.hash), hex::encode(previous))?;
                return Ok(ExitStatus::Mismatch);
            }
            if let Some((digest_position, _)) = digest.filter(|(digest_position, _)| *digest_position > position) {
                writeln!(out, "digest not found: position {digest_position} is past the end of the log (head {position})")?;
                return Ok(ExitStatus::Mismatch);
            }
            writeln!(out, "chain ok: {position} events, head position {}, hash {}", head.position, hex::encode(head.hash))?;
            if let Some((digest_position, digest_hash)) = digest {
                writeln!(out, "digest ok: position {digest_position} still has hash {}", hex::encode(digest_hash))?;
            }
            return Ok(ExitStatus::Success);
        }
        for event in &batch {
            let expected = position + 1;
            if event.position != expected {
                bar.finish_and_clear();
                writeln!(out, "chain broken at position {expected}: the event is missing, the next stored one is at position {}", event.position)?;
                return Ok(ExitStatus::Mismatch);
            }
            let recomputed = chain_hash(&previous, event);
            if recomputed != event.hash {
                bar.finish_and_clear();
                writeln!(out, "chain broken at position {expected}: stored hash {}, recomputed {}", hex::encode(event.hash), hex::encode(recomputed))?;
                return Ok(ExitStatus::Mismatch);
            }
            if let Some((digest_position, digest_hash)) = digest
                && digest_position == event.position
                && digest_hash != recomputed
            {
                bar.finish_and_clear();
                writeln!(
                    out,
                    "digest mismatch at position {digest_position}: published {}, the log now gives {}; the log up to position {digest_position} was changed",
                    hex::encode(digest_hash),
                    hex::encode(recomputed)
                )?;
                return Ok(ExitStatus::Mismatch);
            }
            previous = event.hash;
            position = event.position;
        }
        bar.set_position(position);
    }
}
