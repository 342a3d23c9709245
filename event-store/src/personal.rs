//! Personal data that can be erased without touching the log (crypto-shredding, ADR 7).
//!
//! Each data subject (a user) gets a random 256-bit key, kept in `data_keys` outside the event
//! log and wrapped with a key derived from `DATA_KEY_SECRET`. On append, every personal value of an
//! event (`{"$personal": …}`, see `domain::kernel::Personal`) is sealed with XChaCha20-Poly1305
//! under its subject's key; the stored payload, and so the hash chain, covers only ciphertext.
//! On read, sealed values are opened again, or become `{"$erased": true}` once the subject's key
//! was erased. Stream ids that would name a person (email and username reservations) are keyed
//! hashes instead (`pseudonym`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::Utc;
use domain::kernel::{ERASED_MARKER, PERSONAL_MARKER, PLAIN_MARKER};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::{MySql, MySqlPool, QueryBuilder, Row};
use uuid::Uuid;

use crate::{EventStoreError, RecordedEvent};

/// The JSON key of a sealed personal value: `{"$sealed": {"subject": …, "data": base64}}`.
pub const SEALED_MARKER: &str = "$sealed";

/// Subjects whose key state is kept in memory.
const CACHED_SUBJECTS_MAX: u64 = 100_000;
/// How long a key is used from memory before the table is asked again: another process's
/// erasure reaches this one within this time (this process's own, at once).
const CACHED_KEY_TTL: Duration = Duration::from_secs(60);
const NONCE_BYTES: usize = 24;
/// Subjects looked up per query.
const LOOKUP_SUBJECTS_MAX: usize = 1000;

#[derive(Clone)]
enum KeyState {
    Present(Arc<XChaCha20Poly1305>),
    Erased,
}

/// The data keys of every subject. Cheap to clone.
#[derive(Clone)]
pub struct DataKeys {
    pool: MySqlPool,
    wrapping: Arc<XChaCha20Poly1305>,
    pseudonym_key: Arc<[u8; 32]>,
    cache: moka::future::Cache<Uuid, KeyState>,
}

impl DataKeys {
    /// `secret` is `DATA_KEY_SECRET`. It must never change: it unwraps every data key and names
    /// every reservation stream.
    pub fn new(pool: MySqlPool, secret: &str) -> DataKeys {
        let wrapping = XChaCha20Poly1305::new(&derive(secret, "ispeaker/data-keys/wrap/v1").into());
        DataKeys {
            pool,
            wrapping: Arc::new(wrapping),
            pseudonym_key: Arc::new(derive(secret, "ispeaker/pseudonyms/v1")),
            cache: moka::future::Cache::builder().max_capacity(CACHED_SUBJECTS_MAX).time_to_live(CACHED_KEY_TTL).build(),
        }
    }

    /// A stable stream id for a personal value (`purpose` keeps emails and usernames apart): the
    /// hex HMAC-SHA256 of it, 64 characters, which says nothing about the value without the secret.
    pub fn pseudonym(&self, purpose: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.pseudonym_key.as_slice()).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Deletes the subject's key for good (a tombstone stays, so it is never created again):
    /// everything sealed with it becomes unreadable, everywhere.
    pub async fn erase(&self, subject: Uuid) -> Result<(), EventStoreError> {
        let now = Utc::now().naive_utc();
        sqlx::query(
            "INSERT INTO data_keys (subject, wrapped_key, created_at, erased_at) VALUES (?, NULL, ?, ?) \
             ON DUPLICATE KEY UPDATE wrapped_key = NULL, erased_at = COALESCE(erased_at, VALUES(erased_at))",
        )
        .bind(subject)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.cache.insert(subject, KeyState::Erased).await;
        Ok(())
    }

    /// Whether the subject's key was erased.
    pub async fn is_erased(&self, subject: Uuid) -> Result<bool, EventStoreError> {
        Ok(matches!(self.states(&[subject]).await?.get(&subject), Some(KeyState::Erased)))
    }

    /// Seals every personal value of `payload` with the subject's key, creating the key on first
    /// use. An erased subject takes no new personal data.
    pub(crate) async fn seal(&self, event_id: Uuid, subject: Uuid, payload: &mut Value) -> Result<(), EventStoreError> {
        let cipher = match self.states(&[subject]).await?.remove(&subject) {
            Some(KeyState::Present(cipher)) => cipher,
            Some(KeyState::Erased) => {
                return Err(EventStoreError::InvalidRequest(format!("data subject {subject} was erased: it takes no new personal data")));
            }
            None => self.create(subject).await?,
        };
        let aad = associated_data(subject, event_id);
        walk(payload, &mut |node| {
            let Some(value) = marked(node, PERSONAL_MARKER) else { return Ok(false) };
            let plaintext = serde_json::to_vec(value).map_err(|e| EventStoreError::InvalidRequest(e.to_string()))?;
            let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
            let ciphertext = cipher
                .encrypt(&nonce, Payload { msg: &plaintext, aad: &aad })
                .map_err(|_| EventStoreError::InvalidRequest("sealing failed".to_owned()))?;
            let mut data = nonce.to_vec();
            data.extend_from_slice(&ciphertext);
            *node = json!({ SEALED_MARKER: { "subject": subject, "data": BASE64.encode(data) } });
            Ok(true)
        })
    }

    /// Opens the sealed (and legacy plain) personal values of these events, or marks them erased.
    pub(crate) async fn unseal(&self, events: &mut [RecordedEvent]) -> Result<(), EventStoreError> {
        let mut subjects = HashSet::new();
        for event in events.iter_mut() {
            let position = event.position;
            walk(&mut event.payload, &mut |node| {
                let Some(marker) = marker_of(node) else { return Ok(false) };
                if marker != PERSONAL_MARKER && marker != ERASED_MARKER {
                    subjects.insert(subject_of(node, position)?);
                }
                Ok(true)
            })?;
        }
        if subjects.is_empty() {
            return Ok(());
        }
        let subjects: Vec<Uuid> = subjects.into_iter().collect();
        let states = self.states(&subjects).await?;
        for event in events.iter_mut() {
            let (position, aad_event) = (event.position, event.event_id);
            walk(&mut event.payload, &mut |node| {
                let Some(marker) = marker_of(node) else { return Ok(false) };
                if marker == PERSONAL_MARKER || marker == ERASED_MARKER {
                    return Ok(true);
                }
                let subject = subject_of(node, position)?;
                let state = states.get(&subject);
                *node = match (marker, state) {
                    (_, Some(KeyState::Erased)) => json!({ ERASED_MARKER: true }),
                    (PLAIN_MARKER, _) => {
                        let value = node[PLAIN_MARKER].get_mut("value").map(Value::take).unwrap_or(Value::Null);
                        json!({ PERSONAL_MARKER: value })
                    }
                    (_, Some(KeyState::Present(cipher))) => json!({ PERSONAL_MARKER: open(cipher, node, subject, aad_event, position)? }),
                    (_, None) => return Err(corrupt(position, format!("sealed data of subject {subject}, who has no data key"))),
                };
                Ok(true)
            })?;
        }
        Ok(())
    }

    /// The key state of each subject that has a row, from memory or one query per batch.
    async fn states(&self, subjects: &[Uuid]) -> Result<HashMap<Uuid, KeyState>, EventStoreError> {
        let mut states = HashMap::with_capacity(subjects.len());
        let mut missing = Vec::new();
        for subject in subjects {
            match self.cache.get(subject).await {
                Some(state) => {
                    states.insert(*subject, state);
                }
                None => missing.push(*subject),
            }
        }
        for chunk in missing.chunks(LOOKUP_SUBJECTS_MAX) {
            let mut query: QueryBuilder<MySql> = QueryBuilder::new("SELECT subject, wrapped_key FROM data_keys WHERE subject IN (");
            let mut list = query.separated(", ");
            for subject in chunk {
                list.push_bind(*subject);
            }
            query.push(")");
            for row in query.build().fetch_all(&self.pool).await? {
                let subject: Uuid = row.try_get("subject")?;
                let wrapped: Option<Vec<u8>> = row.try_get("wrapped_key")?;
                let state = match wrapped {
                    None => KeyState::Erased,
                    Some(wrapped) => KeyState::Present(Arc::new(self.unwrap_key(subject, &wrapped)?)),
                };
                self.cache.insert(subject, state.clone()).await;
                states.insert(subject, state);
            }
        }
        Ok(states)
    }

    /// A fresh key for a subject who has none; if another process created one meanwhile, that one.
    async fn create(&self, subject: Uuid) -> Result<Arc<XChaCha20Poly1305>, EventStoreError> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let wrapped = self
            .wrapping
            .encrypt(&nonce, Payload { msg: &key[..], aad: subject.as_bytes() })
            .map_err(|_| EventStoreError::InvalidRequest("wrapping a data key failed".to_owned()))?;
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&wrapped);
        sqlx::query("INSERT IGNORE INTO data_keys (subject, wrapped_key, created_at) VALUES (?, ?, ?)")
            .bind(subject)
            .bind(stored)
            .bind(Utc::now().naive_utc())
            .execute(&self.pool)
            .await?;
        match self.states(&[subject]).await?.remove(&subject) {
            Some(KeyState::Present(cipher)) => Ok(cipher),
            Some(KeyState::Erased) => Err(EventStoreError::InvalidRequest(format!("data subject {subject} was erased"))),
            None => Err(EventStoreError::InvalidRequest(format!("the data key of {subject} was not stored"))),
        }
    }

    fn unwrap_key(&self, subject: Uuid, wrapped: &[u8]) -> Result<XChaCha20Poly1305, EventStoreError> {
        let broken = || EventStoreError::InvalidRequest(format!("the data key of {subject} cannot be unwrapped: is DATA_KEY_SECRET the one it was made with?"));
        if wrapped.len() <= NONCE_BYTES {
            return Err(broken());
        }
        let (nonce, ciphertext) = wrapped.split_at(NONCE_BYTES);
        let key = self
            .wrapping
            .decrypt(&nonce_of(nonce)?, Payload { msg: ciphertext, aad: subject.as_bytes() })
            .map_err(|_| broken())?;
        XChaCha20Poly1305::new_from_slice(&key).map_err(|_| broken())
    }
}

fn nonce_of(bytes: &[u8]) -> Result<XNonce, EventStoreError> {
    let bytes: [u8; NONCE_BYTES] = bytes.try_into().map_err(|_| EventStoreError::InvalidRequest("a nonce is 24 bytes".to_owned()))?;
    Ok(XNonce::from(bytes))
}

/// A 256-bit key for one purpose, derived from the secret.
fn derive(secret: &str, purpose: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

/// A ciphertext is bound to its subject and its event: it cannot be moved to another.
fn associated_data(subject: Uuid, event_id: Uuid) -> Vec<u8> {
    [subject.as_bytes().as_slice(), event_id.as_bytes().as_slice()].concat()
}

fn open(cipher: &XChaCha20Poly1305, node: &Value, subject: Uuid, event_id: Uuid, position: u64) -> Result<Value, EventStoreError> {
    let data = node[SEALED_MARKER]["data"].as_str().ok_or_else(|| corrupt(position, "sealed data without its ciphertext".into()))?;
    let data = BASE64.decode(data).map_err(|_| corrupt(position, "sealed data is not base64".into()))?;
    if data.len() <= NONCE_BYTES {
        return Err(corrupt(position, "sealed data is too short".into()));
    }
    let (nonce, ciphertext) = data.split_at(NONCE_BYTES);
    let plaintext = cipher
        .decrypt(&nonce_of(nonce).map_err(|_| corrupt(position, "a bad nonce".into()))?, Payload { msg: ciphertext, aad: &associated_data(subject, event_id) })
        .map_err(|_| corrupt(position, format!("sealed data of {subject} does not open with its key")))?;
    serde_json::from_slice(&plaintext).map_err(|e| corrupt(position, format!("sealed data is not JSON: {e}")))
}

fn corrupt(position: u64, reason: String) -> EventStoreError {
    EventStoreError::Corrupt { position, reason }
}

/// The marker key of a one-key object that is one of the personal-data markers.
fn marker_of(node: &Value) -> Option<&'static str> {
    let object = node.as_object().filter(|object| object.len() == 1)?;
    [PERSONAL_MARKER, ERASED_MARKER, SEALED_MARKER, PLAIN_MARKER].into_iter().find(|marker| object.contains_key(*marker))
}

/// The value under `marker`, if `node` is that marker.
fn marked<'a>(node: &'a Value, marker: &str) -> Option<&'a Value> {
    (marker_of(node) == Some(marker)).then(|| &node[marker])
}

fn subject_of(node: &Value, position: u64) -> Result<Uuid, EventStoreError> {
    let marker = marker_of(node).unwrap_or(SEALED_MARKER);
    node[marker]["subject"]
        .as_str()
        .and_then(|subject| Uuid::parse_str(subject).ok())
        .ok_or_else(|| corrupt(position, format!("{marker} without a subject")))
}

/// Visits every node depth first; `visit` answers true when it took care of a node, whose
/// children are then not visited.
fn walk(value: &mut Value, visit: &mut impl FnMut(&mut Value) -> Result<bool, EventStoreError>) -> Result<(), EventStoreError> {
    if visit(value)? {
        return Ok(());
    }
    match value {
        Value::Object(object) => object.values_mut().try_for_each(|child| walk(child, visit)),
        Value::Array(items) => items.iter_mut().try_for_each(|child| walk(child, visit)),
        _ => Ok(()),
    }
}

/// For a store without data keys: legacy plain values are shown as they are, sealed ones refused.
pub(crate) fn refuse_sealed(events: &mut [RecordedEvent]) -> Result<(), EventStoreError> {
    for event in events.iter_mut() {
        let position = event.position;
        walk(&mut event.payload, &mut |node| match marker_of(node) {
            Some(SEALED_MARKER) => Err(corrupt(position, "sealed personal data, and the store has no data keys".into())),
            Some(PLAIN_MARKER) => {
                let value = node[PLAIN_MARKER].get_mut("value").map(Value::take).unwrap_or(Value::Null);
                *node = json!({ PERSONAL_MARKER: value });
                Ok(true)
            }
            Some(_) => Ok(true),
            None => Ok(false),
        })?;
    }
    Ok(())
}
