//! Tokens for the video service. A Jitsi deployment with JWT authentication admits whoever holds
//! a token signed with its app secret, into the one room the token names, between `nbf` and
//! `exp`; `context.user` is who they appear as, and `moderator` gives the host's powers.

use chrono::{DateTime, Utc};
use domain::rooms::JitsiRoom;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::settings::Jitsi;

#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    room: &'a str,
    nbf: i64,
    exp: i64,
    context: Context<'a>,
}

#[derive(Debug, Serialize)]
struct Context<'a> {
    user: JitsiUser<'a>,
}

/// Who a participant appears as: strings, empty when unknown.
#[derive(Debug, Serialize)]
pub struct JitsiUser<'a> {
    pub id: String,
    pub name: &'a str,
    pub email: &'a str,
    pub avatar: &'a str,
    pub moderator: bool,
}

/// What a participant opens: the room, the token, and the link that carries both.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JoinView {
    #[schemars(example = &"ispeaker-5f0c3d1e9a7b4c2d8e6f1a0b3c5d7e9f")]
    pub jitsi_room: String,
    /// HS256, signed with the deployment's Jitsi app secret.
    pub jwt: String,
    #[schemars(example = &"https://meet.example.com/ispeaker-5f0c3d1e9a7b4c2d8e6f1a0b3c5d7e9f?jwt=eyJ…")]
    pub url: String,
}

/// A token for `user` to enter `room` from `now` until `ends_at` plus a quarter of an hour.
pub fn join(jitsi: &Jitsi, room: &JitsiRoom, user: Uuid, name: &str, email: &str, moderator: bool, now: DateTime<Utc>, ends_at: DateTime<Utc>) -> Result<JoinView, ApiError> {
    let claims = Claims {
        iss: &jitsi.app_id,
        aud: &jitsi.app_id,
        sub: &jitsi.domain,
        room: room.as_str(),
        nbf: now.timestamp(),
        exp: (ends_at + chrono::Duration::minutes(15)).timestamp(),
        context: Context { user: JitsiUser { id: user.to_string(), name, email, avatar: "", moderator } },
    };
    let jwt = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(jitsi.secret.expose().as_bytes())).map_err(ApiError::internal)?;
    let url = format!("https://{}/{}?jwt={jwt}", jitsi.domain, room.as_str());
    Ok(JoinView { jitsi_room: room.as_str().to_owned(), jwt, url })
}
