//! `rebuild`: a projection's tables refilled from the log; the live ones are replaced in one swap.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use event_store::EventStore;
use projections::Projector;

use crate::progress::Progress;
use crate::{ExitStatus, RebuildArgs};

pub(crate) async fn rebuild(
    store: &EventStore,
    args: &RebuildArgs,
    progress: &Progress,
    out: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let projectors: Vec<Arc<dyn Projector>> = match &args.projection {
        Some(name) => vec![projections::by_name(name).with_context(|| {
            let known: Vec<&str> = projections::all().iter().map(|p| p.name()).collect();
            format!("unknown projection {name:?}; known projections: {}", known.join(", "))
        })?],
        None => projections::all(),
    };
    for projector in projectors {
        let name = projector.name();
        let head = store.head().await?.position;
        let bar = progress.bar(head, format!("rebuilding {name}"));
        let report = projections::rebuild(store, projector.clone(), &|position, head| {
            bar.set_length(head);
            bar.set_position(position);
        })
        .await
        .with_context(|| format!("rebuilding {name} failed; the live tables were left as they were"))?;
        bar.finish_and_clear();
        writeln!(out, "rebuilt {name}: {} events, position {}", report.events, report.position)?;
    }
    Ok(ExitStatus::Success)
}
