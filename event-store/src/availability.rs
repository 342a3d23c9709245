//! Whether the database answers, as last seen. A probe asks every `PROBE_INTERVAL_MS` with a short
//! timeout, and any connection failure seen on the way marks it down at once; while it is down,
//! appends and readers that ask are refused immediately instead of each waiting out a connection
//! timeout. It comes back up by itself with the first probe that succeeds.

use std::sync::Arc;
use std::time::Duration;

use sqlx::MySqlPool;
use tokio::sync::watch;

/// How often the probe asks.
const PROBE_INTERVAL_MS: u64 = 500;
/// How long a probe waits for an answer before calling the database down.
const PROBE_TIMEOUT_MS: u64 = 1_000;

#[derive(Clone)]
pub struct Availability {
    up: Arc<watch::Sender<bool>>,
}

impl Availability {
    /// Starts probing `pool` until every handle is dropped.
    pub(crate) fn start(pool: MySqlPool) -> Availability {
        let up = Arc::new(watch::channel(true).0);
        let probe = Arc::downgrade(&up);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(PROBE_INTERVAL_MS));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(up) = probe.upgrade() else { return };
                let answered = tokio::time::timeout(Duration::from_millis(PROBE_TIMEOUT_MS), sqlx::query("SELECT 1").execute(&pool)).await;
                let now_up = matches!(answered, Ok(Ok(_)));
                up.send_if_modified(|was| {
                    if *was != now_up {
                        if now_up { tracing::info!("the database answers again") } else { tracing::warn!("the database does not answer") }
                    }
                    std::mem::replace(was, now_up) != now_up
                });
            }
        });
        Availability { up }
    }

    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    pub fn watch(&self) -> watch::Receiver<bool> {
        self.up.subscribe()
    }

    /// Takes note of a database error: one that means the server is unreachable marks it down
    /// until the next successful probe.
    pub fn observe(&self, error: &sqlx::Error) {
        if is_connection_failure(error) {
            self.up.send_if_modified(|up| std::mem::replace(up, false));
        }
    }
}

/// Errors that say the server cannot be reached, as opposed to a refused statement.
pub fn is_connection_failure(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_))
}
