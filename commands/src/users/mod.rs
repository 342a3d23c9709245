//! The users context's commands: registration (which also opens the user's wallet), the lookups
//! login needs, and token revocation.
//!
//! Registration is one unit of work over four streams: the email's and the username's
//! reservations (so the store itself refuses a taken email or username, however many
//! registrations race), the user, and the user's wallet. Reservation streams are named by keyed
//! hashes of the normalised email and username (ADR 7). Login reads the store, never a read
//! model, so a user can log in the moment registration answers.

use chrono::{DateTime, Utc};
use domain::users::{
    self, DisplayName, EMAIL_STREAM_TYPE, Email, Language, Reservation, ReservationCommand, Role,
    Timezone, USERNAME_STREAM_TYPE, User, UserCommand, UserEvent, Username,
};
use domain::wallet::{Wallet, WalletCommand};
use event_store::{DataKeys, READ_BATCH_MAX};
use uuid::Uuid;

use crate::kernel::{Kernel, Transacted};
use crate::stream::{Loaded, Stream, decode};
use crate::{CommandContext, CommandError, wallet};

pub fn user_stream(user_id: Uuid) -> Stream<User> {
    Stream::new(users::STREAM_TYPE, user_id.to_string())
}

/// The reservation stream of an email: a keyed hash of it, never the email.
pub fn email_stream(keys: &DataKeys, email: &Email) -> Stream<Reservation> {
    Stream::new(EMAIL_STREAM_TYPE, keys.pseudonym(EMAIL_STREAM_TYPE, email.as_str()))
}

pub fn username_stream(keys: &DataKeys, username: &Username) -> Stream<Reservation> {
    Stream::new(USERNAME_STREAM_TYPE, keys.pseudonym(USERNAME_STREAM_TYPE, username.as_str()))
}

/// Where reservations made before ADR 7 live: named by the value itself. Never written again,
/// still read, so those emails and usernames stay taken and their owners can log in.
fn legacy_reservations(email: &Email, username: &Username) -> [Stream<Reservation>; 2] {
    [Stream::new(EMAIL_STREAM_TYPE, email.as_str()), Stream::new(USERNAME_STREAM_TYPE, username.as_str())]
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

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Users {
    kernel: Kernel,
}

impl Users {
    pub fn new(kernel: Kernel) -> Self {
        Self { kernel }
    }

    fn keys(&self) -> Result<&DataKeys, CommandError> {
        self.kernel.store().data_keys().ok_or_else(|| CommandError::Internal("the store has no data keys (DATA_KEY_SECRET)".to_owned()))
    }

    /// Registers a user and opens their wallet, atomically. A taken email is refused with
    /// `email_taken` (checked before the username), a taken username with `username_taken`;
    /// either way nothing is appended. With an idempotency key, a repeat answers the first
    /// registration.
    #[tracing::instrument(skip_all, fields(username = %registration.username))]
    pub async fn register(&self, registration: Registration, context: CommandContext) -> Result<RegisteredUser, CommandError> {
        let keys = self.keys()?;
        let user_id = Uuid::now_v7();
        // The email stream goes first: the store's writer is chosen by the first stream, so
        // racing registrations of one email queue on one writer.
        let email = &email_stream(keys, &registration.email);
        let username = &username_stream(keys, &registration.username);
        let user = &user_stream(user_id);
        let wallet = &wallet::stream(user_id);
        let registration = &registration;
        let transacted = self
            .kernel
            .transact(&context, |unit| async move {
                let [legacy_email, legacy_username] = legacy_reservations(&registration.email, &registration.username);
                let mut reserved_email = unit.load(email).await?;
                let legacy = unit.load(&legacy_email).await?;
                unit.check(&legacy, ReservationCommand::ReserveEmail { user_id })?;
                unit.decide(email, &mut reserved_email, ReservationCommand::ReserveEmail { user_id })?;
                let mut reserved_username = unit.load(username).await?;
                let legacy = unit.load(&legacy_username).await?;
                unit.check(&legacy, ReservationCommand::ReserveUsername { user_id })?;
                unit.decide(username, &mut reserved_username, ReservationCommand::ReserveUsername { user_id })?;
                let register = UserCommand::Register {
                    user_id,
                    name: registration.name.clone(),
                    username: registration.username.clone(),
                    email: registration.email.clone(),
                    password_hash: registration.password_hash.clone(),
                    roles: registration.roles.clone(),
                    language: registration.language,
                    registered_at: registration.registered_at,
                };
                let mut new_user = unit.create(user).await?;
                unit.decide(user, &mut new_user, register)?;
                let mut new_wallet = unit.create::<Wallet>(wallet).await?;
                unit.decide(wallet, &mut new_wallet, WalletCommand::Open { user_id })?;
                Ok(())
            })
            .await?;
        match transacted {
            Transacted::Done { position: Some(position), .. } => Ok(RegisteredUser { user_id, position }),
            Transacted::Done { position: None, .. } => Err(CommandError::Internal("a registration appended nothing".to_owned())),
            Transacted::Replayed { position } => Ok(RegisteredUser { user_id: self.first_registered(&context).await?, position }),
        }
    }

    /// The user a repeated registration created first.
    async fn first_registered(&self, context: &CommandContext) -> Result<Uuid, CommandError> {
        let key = context.idempotency_key.as_deref().unwrap_or_default();
        let events = self.kernel.first_append(key).await?.map(|(_, events)| events).unwrap_or_default();
        events
            .iter()
            .filter(|event| event.stream.stream_type == users::STREAM_TYPE)
            .find_map(|event| Uuid::parse_str(&event.stream.stream_id).ok())
            .ok_or_else(|| CommandError::Internal("the idempotency key was first used for something other than a registration".to_owned()))
    }

    /// The user who logs in as `login`: an email when it contains '@', else a username, in any
    /// case. Read from the store, so it sees a registration the moment it committed. `None` for
    /// an unknown or malformed login.
    pub async fn find_for_login(&self, login: &str) -> Result<Option<User>, CommandError> {
        let keys = self.keys()?;
        let (reservation, legacy): (Stream<Reservation>, Stream<Reservation>) = if login.contains('@') {
            let Ok(email) = Email::parse(login) else { return Ok(None) };
            (email_stream(keys, &email), Stream::new(EMAIL_STREAM_TYPE, email.as_str()))
        } else {
            let Ok(username) = Username::parse(login) else { return Ok(None) };
            (username_stream(keys, &username), Stream::new(USERNAME_STREAM_TYPE, username.as_str()))
        };
        let mut holder = self.kernel.read(&reservation).await?.state.holder();
        if holder.is_none() {
            holder = self.kernel.read(&legacy).await?.state.holder();
        }
        let Some(user_id) = holder else { return Ok(None) };
        match self.load(user_id).await? {
            // Both are written by one atomic append: a reservation without its user is a
            // broken store, not an unknown login.
            None => Err(CommandError::Corrupt(format!("{reservation:?} names user {user_id} who has no events"))),
            Some(user) => Ok(Some(user)),
        }
    }

    /// Whether a user registered here: one indexed look-up, no replay.
    pub async fn exists(&self, user_id: Uuid) -> Result<bool, CommandError> {
        Ok(self.kernel.store().stream_version(user_stream(user_id).stream_ref()).await? > 0)
    }

    /// Replays one user from the store; `None` if they never registered.
    pub async fn load(&self, user_id: Uuid) -> Result<Option<User>, CommandError> {
        let user = self.kernel.read(&user_stream(user_id)).await?.state;
        Ok(user.is_registered().then_some(user))
    }

    /// The zone the user's wall-clock times are read in. Setting the one they have changes nothing.
    pub async fn set_timezone(&self, user_id: Uuid, timezone: Timezone, context: &CommandContext) -> Result<Transacted<Loaded<User>>, CommandError> {
        self.kernel.execute(&user_stream(user_id), UserCommand::SetTimezone { timezone }, context).await
    }

    pub async fn set_language(&self, user_id: Uuid, language: Language, context: &CommandContext) -> Result<Transacted<Loaded<User>>, CommandError> {
        self.kernel.execute(&user_stream(user_id), UserCommand::SetLanguage { language }, context).await
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
        let stream = user_stream(user_id);
        let transacted = self.kernel.execute(&stream, UserCommand::RevokeToken { token_id, expires_at }, &context).await?;
        if let Some(position) = transacted.position() {
            return Ok(position);
        }
        let recorded = self.kernel.store().read_stream(stream.stream_ref(), 0).await?;
        for event in &recorded {
            if let UserEvent::TokenRevoked { token_id: revoked, .. } = decode(event)?
                && revoked == token_id
            {
                return Ok(event.position);
            }
        }
        Err(CommandError::Internal(format!("token {token_id} is revoked but its event was not found")))
    }

    /// Erases a user's personal data: deletes their data key, so every personal value sealed
    /// with it — in events, wherever they are read — reads as erased from now on, while the
    /// events, the hash chain and the ledger stay whole (ADR 7). Read models show it once rebuilt.
    pub async fn erase(&self, user_id: Uuid) -> Result<(), CommandError> {
        self.keys()?.erase(user_id).await?;
        self.kernel.forget(user_stream(user_id).stream_ref());
        Ok(())
    }

    /// Whether any registered user is an admin: asked once at start-up, to decide whether to
    /// create the bootstrap admin.
    ///
    /// It scans the store's log for a `UserRegistered` with the admin role and stops at the first.
    /// A read model would answer with one query, but it lags the store (a second process starting
    /// right after the first created the admin would create another). The bootstrap admin is
    /// registered at the very first start, so once one exists the scan ends in the first batch.
    pub async fn any_admin_exists(&self) -> Result<bool, CommandError> {
        let mut position = 0;
        loop {
            let events = self.kernel.store().read_all(position, READ_BATCH_MAX).await?;
            let Some(last) = events.last() else { return Ok(false) };
            position = last.position;
            for event in events.iter().filter(|event| users::USER_REGISTERED.name == event.event_type) {
                if let UserEvent::UserRegistered { roles, .. } = decode(event)?
                    && roles.contains(&Role::Admin)
                {
                    return Ok(true);
                }
            }
        }
    }

}
