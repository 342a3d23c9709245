//! The WebSocket gateway (`GET /ws`): the connected user's notifications, chat messages and
//! wallet balances, and the messages of the live rooms the socket joined, pushed as JSON frames
//! `{type, position, data}` once the projections that hold them have committed (`hub`), read
//! from those projections (`frames`), one task per socket (`session`).

mod frames;
mod hub;
mod session;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::auth::bearer;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::openapi::{Op, Routes};
use crate::startup::AppState;

pub use hub::Hub;

/// Seconds a client is asked to wait after being refused for holding too many sockets.
const CROWDED_RETRY_SECONDS: u64 = 5;

pub fn routes(routes: &mut Routes) {
    routes.add(Method::GET, "/ws", connect,
        Op::new("realtime", "Open the WebSocket").query::<ConnectQuery>().upgrade().errors(&[401, 429])
            .description("Upgrades to a WebSocket for the user of the token (`?token=` or `Authorization: Bearer`). 429 \
                          `too_many_sockets` beyond `WS_SOCKETS_PER_USER` open sockets per user. The protocol is described \
                          with the `Real time` tag."));
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConnectQuery {
    /// The bearer token, for clients that cannot set headers on a WebSocket (browsers).
    pub token: Option<String>,
    /// Resume at once: the last position the client had, as with a `resume` message, but before
    /// any live frame, so a reconnect gets everything in order.
    pub after: Option<u64>,
}

pub async fn connect(request: HttpRequest, body: web::Payload, state: web::Data<AppState>, query: web::Query<ConnectQuery>) -> Result<HttpResponse, ApiError> {
    let token = match query.token.as_deref() {
        Some(token) => token,
        None => bearer(&request)?.ok_or(ApiError::Unauthorized)?,
    };
    let user = state.tokens.authenticate(&state, token, None).await?;
    let lang = Lang::current();
    let registration = state
        .hub
        .register(user.user_id, user.token_id, lang)
        .map_err(|hub::Crowded| ApiError::TooManySockets { retry_after_seconds: CROWDED_RETRY_SECONDS })?;
    let id = registration.id;
    let (response, session, stream) = match actix_ws::handle(&request, body) {
        Ok(handled) => handled,
        Err(error) => {
            state.hub.unregister(id);
            return Err(ApiError::MalformedRequest(error.to_string()));
        }
    };
    let caller = session::Caller { user_id: user.user_id, expires_at: user.expires_at, lang, resume_after: query.after };
    actix_web::rt::spawn(session::run(state.into_inner(), caller, registration, session, stream));
    Ok(response)
}

/// The protocol, for the document's `Real time` tag.
pub const PROTOCOL: &str = "A WebSocket at `GET /api/v1/ws` pushes what concerns the connected user as JSON text frames \
`{\"type\", \"position\", \"data\"}`, each sent once the read model that holds it has committed it (a pushed notification is \
already in `GET /notifications`).\n\n\
**Server frames.** `ready` (first, `position` = where this socket's live frames start, `data.user_id`); `notification` (a \
notification as `GET /notifications` shows it, in the language of the upgrade request's `Accept-Language`); `message` (a chat \
message of mine, sent or deleted, to both participants); `wallet` (`{balance, pending_balance}` after each change of my \
wallet); `room_message` (a message of a live room this socket joined: posted, pinned, unpinned or deleted, as it is now); \
`joined_room`, `left_room`, `resumed` (`data.replayed`), `resync_required`, `pong`, and `error` (`data: {code, message}`: \
`invalid_frame`, `not_found`, `not_registered`).\n\n\
**Client messages.** `{\"type\": \"join_room\", \"room_id\"}` (the host and registrants only); `{\"type\": \"leave_room\", \
\"room_id\"}`; `{\"type\": \"resume\", \"after\": POSITION}` replays every frame with a position strictly greater than \
`after` that this socket has not had (mine, and those of the rooms joined so far: join first, then resume), and no live \
frame at or below `after` follows; when that reaches more than 24 hours back (or more than 2,000 frames) the answer is \
`resync_required`: reload over REST. `GET /ws?after=POSITION` resumes the same way before any live frame, so a \
reconnect gets everything in order. `{\"type\": \"ping\"}` answers `pong`.\n\n\
**Limits.** Client frames are at most 4 KiB (close 1009) and 30 per 10 seconds (close 1008). The server pings every \
`WS_PING_SECONDS`; a client silent for three intervals is dropped (1001). A client that does not read its frames \
(`WS_OUTBOX_FRAMES` waiting, beyond a kernel send buffer of `TCP_SEND_BUFFER_BYTES`) is disconnected (1008, `slow reader`). A revoked (logout) or expired token closes the socket \
(1008). A server that stops closes its sockets at once (1001, `server going away`): reconnect with `?after=`. \
Several servers may serve sockets: each pushes the same frames from the shared event feed, and a `resume` on \
another server replays from the same positions.";
