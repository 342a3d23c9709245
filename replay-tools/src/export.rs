//! `export`: one stream as JSON lines, payloads upcast to the current schema. Secrets are
//! redacted: an export is for reading what happened, and a password hash tells no one anything
//! they need while it helps anyone who means to guess the password.

use std::io::Write;

use event_store::{EventStore, StreamRef};
use serde_json::{Value, json};

use crate::{ExitStatus, ExportArgs, rfc3339};

/// Payload fields whose value is never printed, at any depth.
const REDACTED_FIELDS: [&str; 1] = ["password_hash"];
/// What stands in for a redacted value, in the style of the store's `{"$erased": true}`.
const REDACTED_MARKER: &str = "$redacted";

pub(crate) async fn export(store: &EventStore, args: &ExportArgs, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let stream = StreamRef::new(args.stream_type.clone(), args.stream_id.clone());
    let events = store.read_stream(&stream, 0).await?;
    if events.is_empty() {
        // The report goes to stdout, which may be piped into a file of JSON lines: say it on stderr.
        eprintln!("stream {stream} not found: the log has no events for it");
        return Ok(ExitStatus::NotFound);
    }
    let mut redacted_any = false;
    for event in events {
        let mut payload = event.payload;
        let mut redacted = Vec::new();
        redact(&mut payload, "payload", &mut redacted);
        let mut line = json!({
            "position": event.position,
            "event_id": event.event_id,
            "stream_type": event.stream.stream_type,
            "stream_id": event.stream.stream_id,
            "stream_version": event.stream_version,
            "event_type": event.event_type,
            "schema_version": event.schema_version,
            "stored_schema_version": event.stored_schema_version,
            "payload": payload,
            "metadata": event.metadata,
            "recorded_at": rfc3339(event.recorded_at),
            "hash": hex::encode(event.hash),
        });
        // Each line says what it leaves out, so no reader mistakes a redaction for the data.
        if !redacted.is_empty() {
            line["redacted"] = json!(redacted);
            redacted_any = true;
        }
        writeln!(out, "{line}")?;
    }
    if redacted_any {
        eprintln!("note: {} redacted from the export (see each line's \"redacted\")", REDACTED_FIELDS.join(", "));
    }
    Ok(ExitStatus::Success)
}

/// Replaces every `REDACTED_FIELDS` value under `value` with `{"$redacted": true}`, whatever
/// form it has (opened, sealed or erased), and records the paths it redacted.
fn redact(value: &mut Value, path: &str, redacted: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                let field_path = format!("{path}.{name}");
                if REDACTED_FIELDS.contains(&name.as_str()) {
                    *field = json!({ REDACTED_MARKER: true });
                    redacted.push(field_path);
                } else {
                    redact(field, &field_path, redacted);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                redact(item, &format!("{path}[{index}]"), redacted);
            }
        }
        _ => {}
    }
}
