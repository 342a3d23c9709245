//! Rebuilding a projection from the log without a running API ever seeing it half-built: the
//! rows go into shadow tables, which replace the live ones in one atomic RENAME.

use std::sync::Arc;

use event_store::EventStore;
use sqlx::{Connection, MySqlConnection};

use crate::runtime::{Projector, Tables, with_projector_lock};
use crate::ProjectionError;

/// Events per transaction while rebuilding.
const REBUILD_BATCH_EVENTS: usize = 5000;
/// How long to wait for the live projector to finish a batch before the swap.
const SWAP_LOCK_WAIT_SECONDS: u32 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RebuildReport {
    pub events: u64,
    pub position: u64,
}

/// Rebuilds `projector` from position 0. `progress(position, head)` is called after each batch.
#[tracing::instrument(skip_all, fields(projector = projector.name()))]
pub async fn rebuild(
    store: &EventStore,
    projector: Arc<dyn Projector>,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<RebuildReport, ProjectionError> {
    let projector = &projector;
    let mut connection = store.pool().acquire().await?.detach();
    let mut deferred_indexes = Vec::new();
    for table in projector.tables() {
        let shadow = Tables::SHADOW.name(table);
        execute(&mut connection, format!("DROP TABLE IF EXISTS `{shadow}`")).await?;
        execute(&mut connection, format!("CREATE TABLE `{shadow}` LIKE `{table}`")).await?;
        // Filling without secondary indexes and building them once, by sorting, at the end is
        // far cheaper than maintaining them row by row.
        let indexes = secondary_indexes(&mut connection, &shadow).await?;
        if !indexes.is_empty() {
            let drops: Vec<String> = indexes.iter().map(|i| format!("DROP INDEX `{}`", i.name)).collect();
            execute(&mut connection, format!("ALTER TABLE `{shadow}` {}", drops.join(", "))).await?;
            let adds: Vec<String> = indexes.iter().map(SecondaryIndex::add_clause).collect();
            deferred_indexes.push(format!("ALTER TABLE `{shadow}` {}", adds.join(", ")));
        }
    }

    let mut writer = store.pool().acquire().await?.detach();
    // Shadow rows come from events with unique positions and ids: the server need not re-check
    // uniqueness row by row. This connection is closed, never pooled, afterwards.
    execute(&mut writer, "SET SESSION unique_checks = 0".to_owned()).await?;
    // The long part runs without the lock: the live projector keeps serving meanwhile.
    let mut report = RebuildReport { events: 0, position: 0 };
    fill_shadow(store, projector, &mut writer, &mut report, progress).await?;
    for add_indexes in deferred_indexes {
        execute(&mut connection, add_indexes).await?;
    }

    with_projector_lock(&mut connection, store, projector.as_ref(), SWAP_LOCK_WAIT_SECONDS, async |connection| {
        // Whatever was appended during the long part, under the lock so nothing moves now.
        fill_shadow(store, projector, &mut writer, &mut report, progress).await?;
        let renames: Vec<String> = projector
            .tables()
            .iter()
            .map(|t| format!("`{t}` TO `{t}__old`, `{shadow}` TO `{t}`", shadow = Tables::SHADOW.name(t)))
            .collect();
        execute(connection, format!("RENAME TABLE {}", renames.join(", "))).await?;
        for table in projector.tables() {
            execute(connection, format!("DROP TABLE `{table}__old`")).await?;
        }
        sqlx::query(
            "INSERT INTO projector_checkpoints (projector, version, position, updated_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6)) \
             ON DUPLICATE KEY UPDATE version = VALUES(version), position = VALUES(position), updated_at = VALUES(updated_at)",
        )
        .bind(projector.name())
        .bind(projector.version())
        .bind(report.position)
        .execute(&mut *connection)
        .await?;
        Ok(())
    })
    .await?;
    Ok(report)
}

/// Reads and prepares the next batch on another task while the current one is written: decoding
/// and inserting take about as long as each other, and so run side by side.
async fn fill_shadow(
    store: &EventStore,
    projector: &Arc<dyn Projector>,
    writer: &mut MySqlConnection,
    report: &mut RebuildReport,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<(), ProjectionError> {
    let head = store.head().await?.position;
    let read = |after: u64| {
        let (store, projector) = (store.clone(), projector.clone());
        tokio::spawn(async move {
            let events = store.read_all(after, REBUILD_BATCH_EVENTS).await?;
            let Some(last) = events.last().map(|e| e.position) else { return Ok(None) };
            let count = events.len() as u64;
            Ok::<_, ProjectionError>(Some((last, count, projector.prepare(&events)?)))
        })
    };
    let mut next = read(report.position);
    loop {
        let batch = next.await.map_err(|e| ProjectionError::Decode { position: report.position, reason: e.to_string() })??;
        let Some((last, count, prepared)) = batch else { return Ok(()) };
        next = read(last);
        let mut tx = writer.begin().await?;
        prepared.write(&mut tx, Tables::SHADOW).await?;
        tx.commit().await?;
        report.events += count;
        report.position = last;
        progress(last, head.max(last));
    }
}

struct SecondaryIndex {
    name: String,
    unique: bool,
    columns: String,
}

impl SecondaryIndex {
    fn add_clause(&self) -> String {
        let kind = if self.unique { "UNIQUE INDEX" } else { "INDEX" };
        format!("ADD {kind} `{}` ({})", self.name, self.columns)
    }
}

async fn secondary_indexes(connection: &mut MySqlConnection, table: &str) -> Result<Vec<SecondaryIndex>, ProjectionError> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT INDEX_NAME, MAX(NON_UNIQUE), \
                GROUP_CONCAT(CONCAT('`', COLUMN_NAME, '`', IF(SUB_PART IS NULL, '', CONCAT('(', SUB_PART, ')'))) ORDER BY SEQ_IN_INDEX) \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY' \
         GROUP BY INDEX_NAME ORDER BY INDEX_NAME",
    )
    .bind(table)
    .fetch_all(&mut *connection)
    .await?;
    Ok(rows.into_iter().map(|(name, non_unique, columns)| SecondaryIndex { name, unique: non_unique == 0, columns }).collect())
}

async fn execute(connection: &mut MySqlConnection, sql: String) -> Result<(), ProjectionError> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(connection).await?;
    Ok(())
}
