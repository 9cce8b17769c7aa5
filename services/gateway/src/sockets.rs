//! Subscription sockets: `graphql-transport-ws` on `/graphql`, served by Juniper's protocol
//! state machine with what the gateway adds around it:
//! - the token comes in `connection_init`'s payload as `{"authorization": "Bearer <token>"}`;
//!   a refused token, or a user who already has [`SocketLimits::sockets_per_user`] sockets
//!   open, closes the socket (4403, with the reason);
//! - each socket holds at most [`SocketLimits::subscriptions_per_socket`] live subscriptions
//!   ([`SubscriptionSlots`]; one more is refused with `RATE_LIMITED`);
//! - every `subscribe` (queries and mutations too) is costed like a POST
//!   ([`crate::graphql::cost`]) before Juniper sees it;
//! - a signed-in socket ends when its token does: revoked (looked up in the process's
//!   revocation list whenever that list grows, no backend call) or expired (a timer at
//!   the expiry the token carries); it is closed with 4401 and the reason, and its
//!   subscriptions deliver no event once the token has ended ([`tokens::TokenLease`]);
//! - sign-ins over the socket carry the client's address, like POSTs.

use crate::graphql::{Caller, Schema, cost};
use crate::http::{Backends, verify};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::{SinkExt as _, StreamExt as _};
use juniper::DefaultScalarValue;
use juniper_graphql_ws::graphql_transport_ws::{ClientMessage, Connection, Input, Output};
use juniper_graphql_ws::{ArcSchema, ConnectionConfig};
use service_kit::Classified as _;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokens::TokenError;
use uuid::Uuid;

/// Keep-alives on subscription sockets: the gateway sends a `pong` this often, and closes a
/// connection whose client has not sent a `ping` within as long (graphql-ws clients need
/// `keepAlive` set below this; the web UI pings every 5 s).
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Live subscriptions one socket may hold at once, by default: a page of the web UI holds one
/// or two; ten leaves room for a few tabs' worth of views multiplexed on one socket.
pub const DEFAULT_SUBSCRIPTIONS_PER_SOCKET: usize = 10;
/// Sockets one user may have open at once, by default: the web UI opens one per tab, so five
/// tabs or devices; a script opening hundreds is refused.
pub const DEFAULT_SOCKETS_PER_USER: usize = 5;
/// Operations of any kind (queries and mutations included) in flight on one socket, beyond
/// its subscriptions: a backstop Juniper enforces with its own error.
const EXTRA_OPERATIONS_IN_FLIGHT: usize = 4;
/// The graphql-transport-ws close code for "who are you?".
const CLOSE_UNAUTHORIZED: u16 = 4401;
/// The graphql-transport-ws close code for a message that is not the protocol's.
const CLOSE_BAD_REQUEST: u16 = 4400;

/// How much one client may hold open (`SUBSCRIPTIONS_PER_SOCKET`, `SOCKETS_PER_USER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketLimits {
    pub subscriptions_per_socket: usize,
    pub sockets_per_user: usize,
}

impl Default for SocketLimits {
    fn default() -> Self {
        Self { subscriptions_per_socket: DEFAULT_SUBSCRIPTIONS_PER_SOCKET, sockets_per_user: DEFAULT_SOCKETS_PER_USER }
    }
}

/// One socket's live subscriptions: at most `max` at once.
#[derive(Debug)]
pub struct SubscriptionSlots {
    taken: AtomicUsize,
    max: usize,
}

/// One live subscription's place on its socket, given back when dropped.
pub struct SubscriptionSlot(Arc<SubscriptionSlots>);

impl SubscriptionSlots {
    pub fn new(max: usize) -> Self {
        Self { taken: AtomicUsize::new(0), max }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot, unless all are taken.
    pub fn take(self: &Arc<Self>) -> Option<SubscriptionSlot> {
        self.taken.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.max).then_some(n + 1)).ok()?;
        Some(SubscriptionSlot(self.clone()))
    }
}

impl Drop for SubscriptionSlot {
    fn drop(&mut self) {
        self.0.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Signed-in sockets open, by user.
#[derive(Clone, Default)]
pub struct OpenSockets(Arc<Mutex<HashMap<Uuid, usize>>>);

/// One user's open socket, counted until dropped.
pub struct UserSocket {
    open: OpenSockets,
    user: Uuid,
}

impl OpenSockets {
    /// Counts one more socket of `user`, unless they already have `max`.
    fn open(&self, user: Uuid, max: usize) -> Option<UserSocket> {
        let mut open = self.0.lock().expect("unwrap: the lock is never poisoned (no panics while held)");
        let count = open.entry(user).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(UserSocket { open: self.clone(), user })
    }
}

impl Drop for UserSocket {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().expect("unwrap: the lock is never poisoned (no panics while held)");
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// What the socket's task needs of a signed-in session.
struct Session {
    /// Whether its token still holds, decided without a backend call (the process's
    /// revocation list, the expiry the token carries); its subscriptions deliver nothing more
    /// once it has ended.
    lease: Arc<tokens::TokenLease>,
    /// Counts the socket against the user's limit while the session lasts.
    _socket: UserSocket,
}

/// Why `connection_init` was refused (Juniper closes the socket with 4403 and these words).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

/// `GET /graphql` with `Upgrade: websocket`.
pub async fn subscriptions(
    request: HttpRequest,
    payload: web::Payload,
    schema: web::Data<Schema>,
    backends: web::Data<Backends>,
) -> Result<HttpResponse, actix_web::Error> {
    // The peer, or the client a trusted reverse proxy names (`TRUSTED_PROXIES`).
    let client_address = service_kit::http::client_address(&request);
    let (mut response, socket, messages) = actix_ws::handle(&request, payload)?;
    let backends = backends.get_ref().clone();
    let (signed_in, session) = tokio::sync::oneshot::channel::<Session>();
    let init = move |params: juniper::Variables| async move {
        let header = params.get("authorization").and_then(|v| v.convert::<String>().ok());
        let caller: Option<Caller> = match header {
            None => None,
            Some(header) => verify(&header, &backends.verifier).map_err(|e| Refused(e.to_string()))?,
        };
        let limits = backends.socket_limits;
        let mut session = None;
        if let Some(caller) = &caller {
            let socket =
                backends.open_sockets.open(caller.claims.user_id, limits.sockets_per_user).ok_or_else(|| {
                    Refused(format!(
                        "at most {} subscription connections per user; close one first",
                        limits.sockets_per_user
                    ))
                })?;
            let refused = |e: TokenError| Refused(e.to_string());
            let lease = Arc::new(backends.verifier.lease(&caller.token).map_err(refused)?);
            session = Some(lease.clone());
            // The socket's task is waiting for this; it cannot have gone while init runs.
            let _ = signed_in.send(Session { lease, _socket: socket });
        }
        let mut context = backends.context(Ok(caller), client_address);
        context.socket = Some(Arc::new(SubscriptionSlots::new(limits.subscriptions_per_socket)));
        context.session = session;
        Ok::<_, Refused>(
            ConnectionConfig::new(context)
                .with_keep_alive_interval(KEEP_ALIVE)
                .with_max_in_flight_operations(limits.subscriptions_per_socket + EXTRA_OPERATIONS_IN_FLIGHT),
        )
    };
    let schema = schema.into_inner();
    let connection = Connection::new(ArcSchema(schema.clone()), init);
    actix_web::rt::spawn(serve(socket, messages, connection, session, schema));
    response.headers_mut().insert(
        actix_web::http::header::SEC_WEBSOCKET_PROTOCOL,
        actix_web::http::header::HeaderValue::from_static("graphql-transport-ws"),
    );
    Ok(response)
}

type Protocol<I> = Connection<
    ArcSchema<
        crate::graphql::Query,
        crate::graphql::Mutation,
        crate::graphql::Subscription,
        crate::graphql::Context,
        DefaultScalarValue,
    >,
    I,
>;

/// Runs one socket until the client leaves, the protocol closes it, or its session ends.
async fn serve<I>(
    socket: actix_ws::Session,
    mut messages: actix_ws::MessageStream,
    connection: Protocol<I>,
    session: tokio::sync::oneshot::Receiver<Session>,
    schema: Arc<Schema>,
) where
    I: juniper_graphql_ws::Init<DefaultScalarValue, crate::graphql::Context> + Send,
{
    let (mut to_protocol, mut from_protocol) = connection.split();
    let mut replies = socket.clone();
    let input = async {
        while let Some(Ok(message)) = messages.next().await {
            let bytes = match message {
                actix_ws::Message::Text(text) => text.into_bytes(),
                actix_ws::Message::Binary(bytes) => bytes,
                actix_ws::Message::Ping(bytes) => {
                    let _ = replies.pong(&bytes).await;
                    continue;
                }
                actix_ws::Message::Close(_) => {
                    let _ = to_protocol.send(Input::Close).await;
                    return;
                }
                _ => continue,
            };
            let Ok(message) = serde_json::from_slice::<ClientMessage<DefaultScalarValue>>(&bytes) else {
                close(replies.clone(), CLOSE_BAD_REQUEST, "not a graphql-transport-ws message").await;
                return;
            };
            if let ClientMessage::Subscribe { id, payload } = &message
                && let Err(refusal) = cost::check(&schema, &payload.query, payload.operation_name.as_deref())
            {
                let error = serde_json::json!({
                    "id": id,
                    "type": "error",
                    "payload": [{ "message": refusal.to_string(), "extensions": { "code": refusal.kind().code() } }],
                });
                if replies.text(error.to_string()).await.is_err() {
                    return;
                }
                continue;
            }
            if to_protocol.send(Input::Message(message)).await.is_err() {
                return;
            }
        }
    };
    let mut writer = socket.clone();
    let output = async {
        while let Some(output) = from_protocol.next().await {
            match output {
                Output::Message(message) => {
                    let Ok(text) = serde_json::to_string(&message) else { return };
                    if writer.text(text).await.is_err() {
                        return;
                    }
                }
                Output::Close { code, message } => {
                    close(writer.clone(), code, &message).await;
                    return;
                }
            }
        }
    };
    let ended = session_end(session);
    tokio::select! {
        () = input => {}
        () = output => {}
        reason = ended => {
            tracing::info!(%reason, "closing a subscription socket: its session ended");
            close(socket.clone(), CLOSE_UNAUTHORIZED, &reason.to_string()).await;
        }
    }
    // Whichever side ended first, the socket goes (a second close is ignored).
    let _ = socket.close(None).await;
}

/// Resolves when the socket's signed-in session ends: its token revoked (looked up whenever
/// the process's revocation list grows) or expired. Never, for an anonymous socket.
async fn session_end(session: tokio::sync::oneshot::Receiver<Session>) -> TokenError {
    let Ok(session) = session.await else { return std::future::pending().await };
    session.lease.ended().await
}

async fn close(socket: actix_ws::Session, code: u16, message: &str) {
    let reason = actix_ws::CloseReason { code: code.into(), description: Some(message.to_owned()) };
    let _ = socket.close(Some(reason)).await;
}
