//! Clients that behave like real ones through faults, for `chaos`: a kitchen tablet that
//! reconnects with `lastSeq` and checks that its sequence stays gapless (the cook's tablet also
//! bumps every ticket it sees to COMPLETED), and a customer whose `graphql-transport-ws` socket
//! reconnects, subscribes again to the orders it still waits for, and re-reads them (events
//! sent while it was away are gone, so a real page asks).

use crate::client::Api;
use anyhow::Context as _;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The first wait before reconnecting a socket; doubled up to [`MAX_RECONNECT_DELAY`].
const RECONNECT_DELAY: Duration = Duration::from_millis(250);
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(2);
/// How long connecting (and, for a customer, `connection_ack`) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a cook looks at a new ticket before bumping it (so the customer's subscription,
/// set up right after `createOrder` answered, is live before the first change).
const BUMP_DELAY: Duration = Duration::from_millis(300);
/// How long a bump may go unanswered (no `ack`) before the cook taps again.
const BUMP_RETRY: Duration = Duration::from_secs(3);
/// How soon a bump refused with UNAVAILABLE is tried again.
const BUMP_RETRY_UNAVAILABLE: Duration = Duration::from_secs(1);
/// How often the cook looks for tickets to bump.
const COOK_TICK: Duration = Duration::from_millis(100);
/// Taps per look, oldest tickets first: a line of cooks, not a flood (600 bumps in one burst
/// would hold every kitchen connection and starve the ticket consumer, which no kitchen does).
const BUMPS_PER_TICK: usize = 8;
/// Bumps the kitchen has not acknowledged yet, at most.
const BUMPS_IN_FLIGHT: usize = 16;
/// How often a customer's socket pings (the gateway closes a socket silent for 15 s) and looks
/// for orders to re-read.
const CUSTOMER_TICK: Duration = Duration::from_secs(1);
const PING_EVERY: Duration = Duration::from_secs(5);
/// An order the customer has heard nothing about for this long is re-read, as a page that
/// noticed a stalled order would.
const STALE_AFTER: Duration = Duration::from_secs(15);
/// How long after the gateway refused or ended a subscription it is made again; doubled at
/// each refusal in a row up to [`MAX_RESUBSCRIBE_DELAY`], as the order page does. Without
/// backing off, customers whose backend was down (PostgreSQL restarting) re-subscribed every
/// order every second — 23,330 times in one run — and kept the orders service's pool drained.
const RESUBSCRIBE_DELAY: Duration = Duration::from_secs(1);
const MAX_RESUBSCRIBE_DELAY: Duration = Duration::from_secs(5);
/// How long a re-read may take: longer than the gateway's own deadline (10 s).
const REREAD_TIMEOUT: Duration = Duration::from_secs(15);

const FINAL: [&str; 2] = ["COMPLETED", "CANCELLED"];

/// Milliseconds since the Unix epoch: the time base `ci/chaos` writes its faults in.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Waits `delay`, then doubles it up to the ceiling.
async fn back_off(delay: &mut Duration) {
    tokio::time::sleep(*delay).await;
    *delay = (*delay * 2).min(MAX_RECONNECT_DELAY);
}

/// What one tablet saw, across its reconnects.
#[derive(Default)]
pub struct TabletLog {
    /// The highest sequence number applied.
    pub last_seq: Option<i64>,
    /// `(expected, got)`: a `ticket` message that skipped sequence numbers.
    pub gaps: Vec<(i64, i64)>,
    /// `ticket` messages at or below the sequence already applied.
    pub repeats: u64,
    pub snapshots: u32,
    pub connects: u32,
    /// When each order was first seen (ms since the epoch).
    pub first_seen: HashMap<String, u64>,
    /// Each order's latest status and version.
    pub status: HashMap<String, (String, i64)>,
    /// The same order version pushed twice under different sequence numbers.
    pub doubled: Vec<String>,
    changes: HashSet<(String, i64)>,
    /// Orders not finished, with the moment their latest version was seen (the cook's list).
    open: HashMap<String, Instant>,
}

impl TabletLog {
    fn snapshot(&mut self, message: &Value) {
        self.snapshots += 1;
        self.last_seq = message["seq"].as_i64();
        for ticket in message["tickets"].as_array().into_iter().flatten() {
            self.observe(ticket["orderId"].as_str().unwrap_or_default(), &ticket["status"], &ticket["version"]);
        }
    }

    fn ticket(&mut self, message: &Value) {
        let Some(seq) = message["seq"].as_i64() else { return };
        match self.last_seq {
            Some(last) if seq <= last => {
                self.repeats += 1;
                return;
            }
            Some(last) if seq != last + 1 => self.gaps.push((last + 1, seq)),
            _ => {}
        }
        self.last_seq = Some(seq);
        let order = message["orderId"].as_str().unwrap_or_default();
        let version = message["ticket"]["version"].as_i64().unwrap_or_default();
        if !self.changes.insert((order.to_owned(), version)) {
            self.doubled.push(order.to_owned());
        }
        self.observe(order, &message["ticket"]["status"], &message["ticket"]["version"]);
    }

    fn observe(&mut self, order: &str, status: &Value, version: &Value) {
        let (status, version) = (status.as_str().unwrap_or_default(), version.as_i64().unwrap_or_default());
        self.first_seen.entry(order.to_owned()).or_insert_with(now_ms);
        let current = self.status.entry(order.to_owned()).or_insert_with(|| (String::new(), 0));
        if version < current.1 {
            return;
        }
        *current = (status.to_owned(), version);
        if FINAL.contains(&status) {
            self.open.remove(order);
        } else {
            self.open.insert(order.to_owned(), Instant::now());
        }
    }
}

/// A kitchen tablet that keeps itself connected until told to stop.
pub struct Tablet {
    pub log: Arc<Mutex<TabletLog>>,
    task: tokio::task::JoinHandle<()>,
}

impl Tablet {
    /// Connects in the background; a `cook` also bumps every ticket it sees, one step per
    /// version, until COMPLETED.
    pub fn spawn(kitchen: &str, token: &str, cook: bool, stop: watch::Receiver<bool>) -> Self {
        let log = Arc::new(Mutex::new(TabletLog::default()));
        let task = tokio::spawn(tablet_loop(kitchen.to_owned(), token.to_owned(), cook, log.clone(), stop));
        Self { log, task }
    }

    /// Whether the tablet has been live at least once.
    pub fn connected(&self) -> bool {
        self.log.lock().expect("unwrap: no panics while held").last_seq.is_some()
    }
}

impl Drop for Tablet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tablet_loop(
    kitchen: String,
    token: String,
    cook: bool,
    log: Arc<Mutex<TabletLog>>,
    stop: watch::Receiver<bool>,
) {
    let mut delay = RECONNECT_DELAY;
    // The cook's taps: order → (the version bumped, when, whether the kitchen took it).
    let mut bumps: HashMap<String, (i64, Instant, bool)> = HashMap::new();
    while !*stop.borrow() {
        let last_seq = log.lock().expect("unwrap: no panics while held").last_seq;
        let url = match last_seq {
            Some(seq) => format!("ws://{kitchen}/ws?lastSeq={seq}"),
            None => format!("ws://{kitchen}/ws"),
        };
        match connect_tablet(&url, &token).await {
            Ok(socket) => {
                log.lock().expect("unwrap: no panics while held").connects += 1;
                delay = RECONNECT_DELAY;
                run_tablet(socket, cook, &log, &mut bumps, stop.clone()).await;
            }
            Err(_) => back_off(&mut delay).await,
        }
    }
}

async fn connect_tablet(url: &str, token: &str) -> anyhow::Result<Socket> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (socket, _) =
        tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async_with_config(request, None, true))
            .await
            .context("connecting a tablet timed out")??;
    Ok(socket)
}

async fn run_tablet(
    socket: Socket,
    cook: bool,
    log: &Mutex<TabletLog>,
    bumps: &mut HashMap<String, (i64, Instant, bool)>,
    mut stop: watch::Receiver<bool>,
) {
    let (mut sink, mut stream) = socket.split();
    let mut tick = tokio::time::interval(COOK_TICK);
    loop {
        tokio::select! {
            frame = stream.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => continue,
                };
                let message: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                let mut log = log.lock().expect("unwrap: no panics while held");
                let order = message["orderId"].as_str().unwrap_or_default().to_owned();
                match message["type"].as_str() {
                    Some("snapshot") => log.snapshot(&message),
                    Some("ticket") => log.ticket(&message),
                    Some("ack") => {
                        if let Some(bump) = bumps.get_mut(&order) {
                            bump.2 = true;
                        }
                    }
                    Some("error") if message["code"] == service_kit::ErrorKind::Unavailable.code() => {
                        if let Some(bump) = bumps.get_mut(&order) {
                            bump.1 = Instant::now() - BUMP_RETRY + BUMP_RETRY_UNAVAILABLE;
                        }
                    }
                    _ => {}
                }
            }
            _ = tick.tick(), if cook => {
                let in_flight =
                    bumps.values().filter(|(_, at, acked)| !acked && at.elapsed() < BUMP_RETRY).count();
                let due: Vec<String> = {
                    let log = log.lock().expect("unwrap: no panics while held");
                    let mut due: Vec<(&String, &Instant)> = log
                        .open
                        .iter()
                        .filter(|(_, seen)| seen.elapsed() >= BUMP_DELAY)
                        .filter(|(order, _)| {
                            let version = log.status.get(*order).map_or(0, |s| s.1);
                            match bumps.get(*order) {
                                Some((bumped, at, acked)) if *bumped == version => !acked && at.elapsed() >= BUMP_RETRY,
                                _ => true,
                            }
                        })
                        .collect();
                    due.sort_by_key(|(_, seen)| **seen);
                    due.into_iter()
                        .take(BUMPS_PER_TICK.min(BUMPS_IN_FLIGHT.saturating_sub(in_flight)))
                        .map(|(order, _)| order.clone())
                        .collect()
                };
                for order in due {
                    let version = log.lock().expect("unwrap: no panics while held").status.get(&order).map_or(0, |s| s.1);
                    bumps.insert(order.clone(), (version, Instant::now(), false));
                    let bump = json!({ "type": "bump", "orderId": order }).to_string();
                    if sink.send(Message::text(bump)).await.is_err() {
                        return;
                    }
                }
                let log = log.lock().expect("unwrap: no panics while held");
                bumps.retain(|order, _| log.open.contains_key(order));
            }
            _ = stop.changed() => return,
        }
    }
}

/// An order a customer follows until they learn its final status.
struct Following {
    /// When the customer last heard of it (an event, a re-read, a refusal).
    heard: Instant,
    /// Its current subscription's id; `None` while waiting to subscribe again.
    subscription: Option<String>,
    /// Subscriptions refused or ended early since its last event.
    refusals: u32,
}

impl Following {
    fn subscribed(id: String) -> Self {
        Self { heard: Instant::now(), subscription: Some(id), refusals: 0 }
    }

    /// The wait before subscribing again after the last refusal.
    fn resubscribe_after(&self) -> Duration {
        RESUBSCRIBE_DELAY.saturating_mul(1 << self.refusals.saturating_sub(1).min(8)).min(MAX_RESUBSCRIBE_DELAY)
    }
}

/// What one customer learned about their orders, across reconnects.
#[derive(Default)]
pub struct CustomerLog {
    /// Orders whose final status the customer has not learned.
    open: HashMap<String, Following>,
    /// Final statuses seen on a subscription.
    pub by_subscription: HashMap<String, String>,
    /// Final statuses learned by re-reading the order (after a reconnect, or a stalled order).
    pub by_reread: HashMap<String, String>,
    pub connects: u32,
    /// Subscriptions the gateway refused or ended early (each subscribed again).
    pub refused: u32,
    subscriptions: u64,
}

impl CustomerLog {
    fn learned(&mut self, order: &str, status: &str, on_subscription: bool) {
        if !FINAL.contains(&status) {
            if let Some(entry) = self.open.get_mut(order) {
                entry.heard = Instant::now();
                if on_subscription {
                    entry.refusals = 0;
                }
            }
            return;
        }
        self.open.remove(order);
        let learned = if on_subscription { &mut self.by_subscription } else { &mut self.by_reread };
        learned.insert(order.to_owned(), status.to_owned());
    }

    /// Whether the customer knows how `order` ended.
    pub fn knows_final(&self, order: &str) -> bool {
        self.by_subscription.contains_key(order) || self.by_reread.contains_key(order)
    }
}

/// A customer's subscription socket, kept open until told to stop.
pub struct Customer {
    pub log: Arc<Mutex<CustomerLog>>,
    watch: mpsc::UnboundedSender<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Customer {
    pub fn spawn(api: Api, token: &str, stop: watch::Receiver<bool>) -> Self {
        let log = Arc::new(Mutex::new(CustomerLog::default()));
        let (watch, orders) = mpsc::unbounded_channel();
        let task = tokio::spawn(customer_loop(api, token.to_owned(), log.clone(), orders, stop));
        Self { log, watch, task }
    }

    /// Follows `order` until its final status.
    pub fn watch(&self, order: &str) {
        let _ = self.watch.send(order.to_owned());
    }

    pub fn connected(&self) -> bool {
        self.log.lock().expect("unwrap: no panics while held").connects > 0
    }
}

impl Drop for Customer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn customer_loop(
    api: Api,
    token: String,
    log: Arc<Mutex<CustomerLog>>,
    mut orders: mpsc::UnboundedReceiver<String>,
    stop: watch::Receiver<bool>,
) {
    let mut delay = RECONNECT_DELAY;
    while !*stop.borrow() {
        match connect_customer(&api.url, &token).await {
            Ok(socket) => {
                let reconnect = {
                    let mut log = log.lock().expect("unwrap: no panics while held");
                    log.connects += 1;
                    log.connects > 1
                };
                delay = RECONNECT_DELAY;
                run_customer(socket, reconnect, &api, &token, &log, &mut orders, stop.clone()).await;
            }
            Err(_) => back_off(&mut delay).await,
        }
    }
}

async fn connect_customer(url: &str, token: &str) -> anyhow::Result<Socket> {
    let mut request = url.replacen("http", "ws", 1).into_client_request()?;
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let connect = async {
        let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
        let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
        socket.send(Message::text(init.to_string())).await?;
        while let Some(frame) = socket.next().await {
            if let Message::Text(text) = frame? {
                let message: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                if message["type"] == "connection_ack" {
                    return Ok(socket);
                }
            }
        }
        anyhow::bail!("the gateway closed the socket before connection_ack")
    };
    tokio::time::timeout(CONNECT_TIMEOUT, connect).await.context("connecting a customer timed out")?
}

const STATUS_SUBSCRIPTION: &str = "subscription($id: ID!) { orderStatusChanged(orderId: $id) { orderId status } }";

async fn run_customer(
    socket: Socket,
    reconnect: bool,
    api: &Api,
    token: &str,
    log: &Arc<Mutex<CustomerLog>>,
    orders: &mut mpsc::UnboundedReceiver<String>,
    mut stop: watch::Receiver<bool>,
) {
    let (mut sink, mut stream) = socket.split();
    let subscribe = |log: &mut CustomerLog, order: &str| {
        log.subscriptions += 1;
        let id = format!("{order}#{}", log.subscriptions);
        let refusals = log.open.get(order).map_or(0, |o| o.refusals);
        log.open.insert(order.to_owned(), Following { refusals, ..Following::subscribed(id.clone()) });
        Message::text(
            json!({ "id": id, "type": "subscribe", "payload": { "query": STATUS_SUBSCRIPTION, "variables": { "id": order } } })
                .to_string(),
        )
    };
    // Everything still open is subscribed to again here; after a reconnect it is also re-read.
    let again: Vec<(String, Message)> = {
        let mut log = log.lock().expect("unwrap: no panics while held");
        let open: Vec<String> = log.open.keys().cloned().collect();
        open.into_iter().map(|order| (order.clone(), subscribe(&mut log, &order))).collect()
    };
    for (order, message) in again {
        if sink.send(message).await.is_err() {
            return;
        }
        if reconnect {
            tokio::spawn(reread(api.clone(), token.to_owned(), order, log.clone()));
        }
    }
    let mut tick = tokio::time::interval(CUSTOMER_TICK);
    let mut last_ping = Instant::now();
    loop {
        let outgoing = tokio::select! {
            frame = stream.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => continue,
                };
                let message: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                let id = message["id"].as_str().unwrap_or_default();
                let order = id.split('#').next().unwrap_or_default().to_owned();
                let mut state = log.lock().expect("unwrap: no panics while held");
                let current = state.open.get(&order).and_then(|o| o.subscription.as_deref()) == Some(id);
                match message["type"].as_str() {
                    Some("ping") => vec![Message::text(json!({ "type": "pong" }).to_string())],
                    Some("next") if message["payload"]["errors"].is_null() => {
                        let event = &message["payload"]["data"]["orderStatusChanged"];
                        state.learned(&order, event["status"].as_str().unwrap_or_default(), true);
                        vec![]
                    }
                    // Refused (UNAVAILABLE while a backend restarts, FellBehind) or ended before
                    // the order did: re-read it, and subscribe again a little later.
                    Some("next" | "error" | "complete") if current => {
                        state.refused += 1;
                        if let Some(entry) = state.open.get_mut(&order) {
                            entry.heard = Instant::now();
                            entry.subscription = None;
                            entry.refusals += 1;
                        }
                        tokio::spawn(reread(api.clone(), token.to_owned(), order.clone(), log.clone()));
                        vec![]
                    }
                    _ => vec![],
                }
            }
            order = orders.recv() => match order {
                Some(order) => vec![subscribe(&mut log.lock().expect("unwrap: no panics while held"), &order)],
                None => return,
            },
            _ = tick.tick() => {
                let mut state = log.lock().expect("unwrap: no panics while held");
                let stale: Vec<String> =
                    state.open.iter().filter(|(_, o)| o.heard.elapsed() >= STALE_AFTER).map(|(k, _)| k.clone()).collect();
                for order in stale {
                    if let Some(entry) = state.open.get_mut(&order) {
                        entry.heard = Instant::now();
                    }
                    tokio::spawn(reread(api.clone(), token.to_owned(), order, log.clone()));
                }
                let unsubscribed: Vec<String> = state
                    .open
                    .iter()
                    .filter(|(_, o)| o.subscription.is_none() && o.heard.elapsed() >= o.resubscribe_after())
                    .map(|(k, _)| k.clone())
                    .collect();
                let mut outgoing: Vec<Message> = unsubscribed.iter().map(|order| subscribe(&mut state, order)).collect();
                if last_ping.elapsed() >= PING_EVERY {
                    last_ping = Instant::now();
                    outgoing.push(Message::text(json!({ "type": "ping" }).to_string()));
                }
                outgoing
            }
            _ = stop.changed() => return,
        };
        for message in outgoing {
            if sink.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// Asks the gateway how `order` stands, as a page does after reconnecting; a final status
/// counts as learned by re-reading.
async fn reread(api: Api, token: String, order: String, log: Arc<Mutex<CustomerLog>>) {
    let query = api.graphql(Some(&token), "query($id: ID!) { order(id: $id) { status } }", json!({ "id": order }));
    if let Ok(Ok(data)) = tokio::time::timeout(REREAD_TIMEOUT, query).await
        && let Some(status) = data["order"]["status"].as_str()
    {
        let mut log = log.lock().expect("unwrap: no panics while held");
        if log.open.contains_key(&order) {
            log.learned(&order, status, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_subscription_is_made_again_later_and_later_up_to_five_seconds() {
        let waits: Vec<u64> = (1..=6)
            .map(|refusals| Following { refusals, ..Following::subscribed("o#1".into()) }.resubscribe_after().as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 5, 5, 5]);
        // Even a very long outage never overflows the wait.
        let endless = Following { refusals: u32::MAX, ..Following::subscribed("o#1".into()) };
        assert_eq!(endless.resubscribe_after(), MAX_RESUBSCRIBE_DELAY);
    }
}
