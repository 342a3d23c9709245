//! `export`: one stream as JSON lines, payloads upcast to the current schema.

use std::io::Write;

use event_store::{EventStore, StreamRef};
use serde_json::json;

use crate::{ExitStatus, ExportArgs, rfc3339};

pub(crate) async fn export(store: &EventStore, args: &ExportArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let stream = StreamRef::new(args.stream_type.clone(), args.stream_id.clone());
    let events = store.read_stream(&stream, 0).await?;
    if events.is_empty() {
        // The report goes to stdout, which may be piped into a file of JSON lines: say it on stderr.
        eprintln!("stream {stream} not found: the log has no events for it");
        return Ok(ExitStatus::NotFound);
    }
    for event in events {
        let line = json!({
            "position": event.position,
            "event_id": event.event_id,
            "stream_type": event.stream.stream_type,
            "stream_id": event.stream.stream_id,
            "stream_version": event.stream_version,
            "event_type": event.event_type,
            "schema_version": event.schema_version,
            "stored_schema_version": event.stored_schema_version,
            "payload": event.payload,
            "metadata": event.metadata,
            "recorded_at": rfc3339(event.recorded_at),
            "hash": hex::encode(event.hash),
        });
        writeln!(out, "{line}")?;
    }
    Ok(ExitStatus::Success)
}
