//! User commands: registration (which also opens the user's wallet), the lookups login needs,
//! and token revocation.
//!
//! Registration appends four streams in one atomic append, each expected not to exist yet: the
//! email's and the username's reservation streams (so the store itself refuses a taken email or
//! username, however many registrations race), the user stream, and the user's wallet stream.
//! Login reads the reservation streams and the user stream straight from the store, never a
//! read model, so a user can log in the moment registration answers.

use chrono::{DateTime, Utc};
use domain::user::{
    self, DisplayName, EMAIL_STREAM_TYPE, Email, Language, ReservationEvent, Role, STREAM_TYPE,
    USERNAME_STREAM_TYPE, User, UserCommand, UserEvent, Username,
};
use domain::wallet::{Wallet, WalletCommand};
use event_store::{
    AppendRequest, EventStore, EventStoreError, ExpectedVersion, NewEvent, READ_BATCH_MAX,
    RecordedEvent, StreamAppend, StreamRef,
};
use uuid::Uuid;

use crate::{CommandContext, CommandError, wallet_stream};

/// A revocation that keeps conflicting with other appends to the user stream is decided again
/// at most this often.
const REVOKE_CONFLICT_RETRIES_MAX: u32 = 8;

pub fn user_stream(user_id: Uuid) -> StreamRef {
    StreamRef::new(STREAM_TYPE, user_id.to_string())
}

pub fn email_stream(email: &Email) -> StreamRef {
    StreamRef::new(EMAIL_STREAM_TYPE, user::email_stream_id(email))
}

pub fn username_stream(username: &Username) -> StreamRef {
    StreamRef::new(USERNAME_STREAM_TYPE, user::username_stream_id(username))
}

/// A registration whose parts are already validated; the password is already hashed and
/// `registered_at` comes from the caller's clock.
#[derive(Clone, Debug)]
pub struct Registration {
    pub name: DisplayName,
    pub username: Username,
    pub email: Email,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub language: Language,
    pub registered_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisteredUser {
    pub user_id: Uuid,
    /// Global position of the registration's last event: wait for it before reading models.
    pub position: u64,
}

/// The user command handler. Cheap to clone.
#[derive(Clone)]
pub struct Users {
    store: EventStore,
}

impl Users {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Registers a user and opens their wallet, atomically. A taken email answers `EmailTaken`
    /// (checked before the username), a taken username `UsernameTaken`; either way nothing is
    /// appended. With an idempotency key, a repeat answers the first registration.
    #[tracing::instrument(skip_all, fields(username = %registration.username))]
    pub async fn register(
        &self,
        registration: Registration,
        context: CommandContext,
    ) -> Result<RegisteredUser, CommandError> {
        let user_id = Uuid::now_v7();
        let user_events = User::default().handle(UserCommand::Register {
            user_id,
            name: registration.name,
            username: registration.username,
            email: registration.email,
            password_hash: registration.password_hash,
            roles: registration.roles,
            language: registration.language,
            registered_at: registration.registered_at,
        })?;
        let wallet_events = Wallet::default().handle(WalletCommand::Open { user_id })?;

        // The email stream goes first: the store reports the first conflicting stream, so a
        // taken email wins over a taken username, and the store's writers are chosen by the
        // first stream, so racing registrations of one email queue on one writer.
        let mut streams: Vec<StreamAppend> = user_events
            .iter()
            .flat_map(UserEvent::reservations)
            .map(|reservation| {
                let (stream_type, stream_id) = reservation.stream();
                StreamAppend {
                    stream: StreamRef::new(stream_type, stream_id),
                    expected: ExpectedVersion::NoStream,
                    events: vec![NewEvent::new(
                        reservation.event_type(),
                        reservation.schema_version(),
                        reservation.to_payload(),
                    )],
                }
            })
            .collect();
        streams.push(StreamAppend {
            stream: user_stream(user_id),
            expected: ExpectedVersion::NoStream,
            events: user_events.iter().map(user_new_event).collect(),
        });
        streams.push(StreamAppend {
            stream: wallet_stream(user_id),
            expected: ExpectedVersion::NoStream,
            events: wallet_events
                .iter()
                .map(|event| NewEvent::new(event.event_type(), event.schema_version(), event.to_payload()))
                .collect(),
        });
        let request = AppendRequest { streams, idempotency_key: None, metadata: Default::default() }
            .with_metadata(context.metadata());

        match self.store.append(request).await {
            Ok(outcome) if outcome.replayed => {
                let user_id = self.registered_user_at(outcome.first_position, outcome.last_position).await?;
                Ok(RegisteredUser { user_id, position: outcome.last_position })
            }
            Ok(outcome) => Ok(RegisteredUser { user_id, position: outcome.last_position }),
            Err(EventStoreError::Conflict { stream, .. }) if stream.stream_type == EMAIL_STREAM_TYPE => {
                Err(CommandError::EmailTaken)
            }
            Err(EventStoreError::Conflict { stream, .. }) if stream.stream_type == USERNAME_STREAM_TYPE => {
                Err(CommandError::UsernameTaken)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The user a repeated registration created first: its user stream's event in the
    /// positions the store returned for the idempotency key.
    async fn registered_user_at(&self, first_position: u64, last_position: u64) -> Result<Uuid, CommandError> {
        let count = usize::try_from(last_position.saturating_sub(first_position) + 1).unwrap_or(READ_BATCH_MAX);
        let events = self.store.read_all(first_position.saturating_sub(1), count).await?;
        events
            .iter()
            .filter(|event| event.stream.stream_type == STREAM_TYPE && event.position <= last_position)
            .find_map(|event| Uuid::parse_str(&event.stream.stream_id).ok())
            .ok_or_else(|| {
                CommandError::Internal(
                    "the idempotency key was first used for something other than a registration".to_owned(),
                )
            })
    }

    /// The user who logs in as `login`: an email when it contains '@', else a username, in any
    /// case. Read from the store, so it sees a registration the moment it committed. `None` for
    /// an unknown or malformed login.
    pub async fn find_for_login(&self, login: &str) -> Result<Option<User>, CommandError> {
        let reservation = if login.contains('@') {
            match Email::parse(login) {
                Ok(email) => email_stream(&email),
                Err(_) => return Ok(None),
            }
        } else {
            match Username::parse(login) {
                Ok(username) => username_stream(&username),
                Err(_) => return Ok(None),
            }
        };
        let recorded = self.store.read_stream(&reservation, 0).await?;
        let Some(first) = recorded.into_iter().next() else { return Ok(None) };
        let reserved = ReservationEvent::from_payload(&first.event_type, first.schema_version, first.payload)
            .map_err(|e| CommandError::Corrupt(format!("position {}: {e}", first.position)))?;
        let user = self.load(reserved.user_id()).await?;
        if user.is_none() {
            // Both streams are written by one atomic append: a reservation without its user is
            // a broken store, not an unknown login.
            return Err(CommandError::Corrupt(format!("{reservation} names user {} who has no events", reserved.user_id())));
        }
        Ok(user)
    }

    /// Replays one user from the store; `None` if they never registered.
    pub async fn load(&self, user_id: Uuid) -> Result<Option<User>, CommandError> {
        let (user, _) = self.load_with_events(user_id).await?;
        Ok(user.is_registered().then_some(user))
    }

    /// Revokes a token of a registered user until `expires_at`, answering the position of the
    /// `TokenRevoked` event. Revoking the same token again appends nothing and answers the first
    /// revocation's position.
    #[tracing::instrument(skip_all, fields(%user_id, %token_id))]
    pub async fn revoke_token(
        &self,
        user_id: Uuid,
        token_id: Uuid,
        expires_at: DateTime<Utc>,
        context: CommandContext,
    ) -> Result<u64, CommandError> {
        let mut attempts = 0;
        loop {
            let (user, recorded) = self.load_with_events(user_id).await?;
            let events = user.handle(UserCommand::RevokeToken { token_id, expires_at })?;
            if events.is_empty() {
                return first_revocation(&recorded, token_id).ok_or_else(|| {
                    CommandError::Internal(format!("token {token_id} is revoked but its event was not found"))
                });
            }
            let request = AppendRequest::single(
                user_stream(user_id),
                ExpectedVersion::from_version(user.version()),
                events.iter().map(user_new_event).collect(),
            )
            .with_metadata(context.metadata());
            match self.store.append(request).await {
                Ok(outcome) => return Ok(outcome.last_position),
                // Another append to this user came first: decide again on fresh state.
                Err(EventStoreError::Conflict { .. }) if attempts < REVOKE_CONFLICT_RETRIES_MAX => attempts += 1,
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Whether any registered user is an admin: asked once at start-up, to decide whether to
    /// create the bootstrap admin.
    ///
    /// It scans the store's log for a `UserRegistered` with the admin role and stops at the first.
    /// The `users` read model would answer with one indexed query, but it lags the store (a
    /// second process starting right after the first created the admin would create another)
    /// and this crate does not query tables. The bootstrap admin is registered at the very
    /// first start, so once one exists the scan ends in the first batch; only a log without
    /// any admin is read whole, once.
    pub async fn any_admin_exists(&self) -> Result<bool, CommandError> {
        let mut position = 0;
        loop {
            let events = self.store.read_all(position, READ_BATCH_MAX).await?;
            let Some(last) = events.last() else { return Ok(false) };
            position = last.position;
            for event in &events {
                if event.stream.stream_type != STREAM_TYPE || event.event_type != "UserRegistered" {
                    continue;
                }
                if let UserEvent::UserRegistered { roles, .. } = decode_user_event(event)?
                    && roles.contains(&Role::Admin)
                {
                    return Ok(true);
                }
            }
        }
    }

    /// The user's state with the recorded events it was folded from.
    async fn load_with_events(&self, user_id: Uuid) -> Result<(User, Vec<(u64, UserEvent)>), CommandError> {
        let recorded = self.store.read_stream(&user_stream(user_id), 0).await?;
        let mut user = User::default();
        let mut events = Vec::with_capacity(recorded.len());
        for event in &recorded {
            let decoded = decode_user_event(event)?;
            user.apply(&decoded);
            if user.version() != event.stream_version {
                return Err(CommandError::Corrupt(format!("user {user_id} skips to version {}", event.stream_version)));
            }
            if decoded.user_id() != user_id {
                return Err(CommandError::Corrupt(format!(
                    "position {}: an event of user {user_id} names user {}",
                    event.position,
                    decoded.user_id()
                )));
            }
            events.push((event.position, decoded));
        }
        Ok((user, events))
    }
}

fn user_new_event(event: &UserEvent) -> NewEvent {
    NewEvent::new(event.event_type(), event.schema_version(), event.to_payload())
}

fn decode_user_event(event: &RecordedEvent) -> Result<UserEvent, CommandError> {
    UserEvent::from_payload(&event.event_type, event.schema_version, event.payload.clone())
        .map_err(|e| CommandError::Corrupt(format!("position {}: {e}", event.position)))
}

fn first_revocation(recorded: &[(u64, UserEvent)], token_id: Uuid) -> Option<u64> {
    recorded.iter().find_map(|(position, event)| match event {
        UserEvent::TokenRevoked { token_id: revoked, .. } if *revoked == token_id => Some(*position),
        _ => None,
    })
}
