//! The events this process's writers committed last. Readers of the log (the relay above all,
//! which publishes what was just appended) take them from here instead of reading them back
//! from the database. Only ever filled after a commit succeeded, and only a run that continues
//! exactly where the reader is counts, so a reader never skips what another process appended.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::StoredEvent;

/// Events kept; older ones are read from the database.
const RECENT_EVENTS_MAX: usize = 16 * 1024;

#[derive(Default)]
pub(crate) struct RecentEvents {
    events: Mutex<BTreeMap<u64, StoredEvent>>,
}

impl RecentEvents {
    pub fn remember(&self, rows: Vec<StoredEvent>) {
        let mut events = self.events.lock().expect("recent events lock");
        events.extend(rows.into_iter().map(|row| (row.position, row)));
        while events.len() > RECENT_EVENTS_MAX {
            events.pop_first();
        }
    }

    /// Up to `limit` events right after `position`, as far as they are consecutive here; empty
    /// when the next one is not here.
    pub fn after(&self, position: u64, limit: usize) -> Vec<StoredEvent> {
        let events = self.events.lock().expect("recent events lock");
        events
            .range(position + 1..)
            .zip(position + 1..)
            .take_while(|((held, _), wanted)| *held == wanted)
            .take(limit)
            .map(|((_, event), _)| event.clone())
            .collect()
    }
}
