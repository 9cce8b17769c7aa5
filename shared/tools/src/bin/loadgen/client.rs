//! The clients a restaurant has: customers over GraphQL (queries and `graphql-transport-ws`
//! subscriptions) and kitchen tablets over the kitchen's WebSocket. Each socket has a reader
//! task that stamps every event the moment its frame arrives, keyed `"<orderId>/<STATUS>"`.

use anyhow::Context as _;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest as _};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Browsers send WebSocket frames at once (TCP_NODELAY); so do these clients.
const NO_NAGLE: bool = true;

/// Bytes one socket read asks for. tungstenite zeroes that much of its buffer before every read
/// (128 KiB by default): with a thousand sockets that was a quarter of loadgen's CPU, taken
/// from the services it measures. Events are a few hundred bytes; a bigger frame takes more
/// reads.
const READ_BUFFER: usize = 8 * 1024;

/// How often a subscriber pings: the gateway closes a connection silent for 15 s.
const PING_EVERY: Duration = Duration::from_secs(5);

/// How long a socket may take to connect and be ready (snapshot or `connection_ack`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// When each event first arrived on one socket, and how often it arrived.
#[derive(Clone, Default)]
pub struct Arrivals(Arc<Mutex<HashMap<String, (Instant, usize)>>>);

impl Arrivals {
    fn record(&self, key: String, at: Instant) {
        let mut seen = self.0.lock().expect("unwrap: no panics while held");
        seen.entry(key).and_modify(|(_, n)| *n += 1).or_insert((at, 1));
    }

    /// First arrival and count of `key`.
    pub fn get(&self, key: &str) -> Option<(Instant, usize)> {
        self.0.lock().expect("unwrap: no panics while held").get(key).copied()
    }

    /// Whether every key has arrived.
    pub fn has_all<'a>(&self, mut keys: impl Iterator<Item = &'a String>) -> bool {
        let seen = self.0.lock().expect("unwrap: no panics while held");
        keys.all(|k| seen.contains_key(k))
    }
}

/// The "status" a refused subscription of an order is recorded under ([`Subscriber`]).
pub const REFUSED: &str = "REFUSED";

/// The key of one order reaching one status.
pub fn key(order_id: &str, status: &str) -> String {
    format!("{order_id}/{status}")
}

/// Polls until every key has arrived on every socket, or the deadline passes.
pub async fn wait_for_all(arrivals: &[&Arrivals], keys: &[String], deadline: Instant) {
    let mut pending: Vec<&Arrivals> = arrivals.to_vec();
    while Instant::now() < deadline {
        pending.retain(|a| !a.has_all(keys.iter()));
        if pending.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The public GraphQL API.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub url: String,
}

impl Api {
    pub fn new(url: &str) -> Self {
        Self { http: reqwest::Client::new(), url: url.to_owned() }
    }

    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> anyhow::Result<Value> {
        let mut request = self.http.post(&self.url).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer: Value = request.send().await?.json().await?;
        anyhow::ensure!(answer["errors"].is_null(), "GraphQL error: {}", answer["errors"]);
        Ok(answer["data"].clone())
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> anyhow::Result<String> {
        let data = self
            .graphql(
                None,
                "mutation($i: LoginInput!) { login(input: $i) { token } }",
                json!({ "i": { "username": username, "password": password } }),
            )
            .await?;
        Ok(data["login"]["token"].as_str().context("no token")?.to_owned())
    }

    /// Registers `count` new customers; their tokens.
    pub async fn new_customers(&self, count: usize) -> anyhow::Result<Vec<String>> {
        let mut tokens = Vec::with_capacity(count);
        for _ in 0..count {
            let username = format!("load-{}", uuid::Uuid::new_v4().simple());
            let data = self
                .graphql(
                    None,
                    "mutation($i: RegisterInput!) { register(input: $i) { token } }",
                    json!({ "i": { "username": &username[..24], "password": "load generator" } }),
                )
                .await?;
            tokens.push(data["register"]["token"].as_str().context("no customer token")?.to_owned());
        }
        Ok(tokens)
    }

    /// Ids of the dishes that can be ordered now.
    pub async fn available_dishes(&self) -> anyhow::Result<Vec<String>> {
        let menu =
            self.graphql(None, "{ menuItems(first: 50) { edges { node { id available } } } }", json!({})).await?;
        let dishes: Vec<String> = menu["menuItems"]["edges"]
            .as_array()
            .context("no menu")?
            .iter()
            .filter(|e| e["node"]["available"] == true)
            .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
            .collect();
        anyhow::ensure!(!dishes.is_empty(), "nothing on the menu can be ordered");
        Ok(dishes)
    }

    pub async fn create_order(&self, token: &str, dish: &str) -> anyhow::Result<String> {
        let data = self
            .graphql(
                Some(token),
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                json!({ "i": { "items": [{ "menuItemId": dish, "quantity": 1 }] } }),
            )
            .await?;
        Ok(data["createOrder"]["id"].as_str().context("no order id")?.to_owned())
    }
}

/// One placed order: who placed it, when the request left, how long the answer took.
pub struct Placed {
    pub id: String,
    pub customer: usize,
    pub sent: Instant,
    pub response: Duration,
}

/// What a run of `createOrder` calls at a steady rate gave.
pub struct Placing {
    pub placed: Vec<Placed>,
    pub errors: Vec<String>,
    /// From the first request to the last answer.
    pub took: Duration,
}

/// Places `count` orders at `rate` per second, round-robin over customers and dishes, each
/// request on its own task so a slow answer never delays the next order.
pub async fn place_orders(api: &Api, customers: &[String], dishes: &[String], count: usize, rate: f64) -> Placing {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let mut sends = Vec::with_capacity(count);
    for i in 0..count {
        tokio::time::sleep_until((started + interval.mul_f64(i as f64)).into()).await;
        let (api, customer) = (api.clone(), i % customers.len());
        let (token, dish) = (customers[customer].clone(), dishes[i % dishes.len()].clone());
        sends.push(tokio::spawn(async move {
            let sent = Instant::now();
            let id = api.create_order(&token, &dish).await?;
            anyhow::Ok(Placed { id, customer, sent, response: sent.elapsed() })
        }));
    }
    let mut placing = Placing { placed: Vec::with_capacity(count), errors: vec![], took: Duration::ZERO };
    for send in sends {
        match send.await {
            Ok(Ok(placed)) => placing.placed.push(placed),
            Ok(Err(e)) => placing.errors.push(e.to_string()),
            Err(e) => placing.errors.push(e.to_string()),
        }
    }
    placing.took = started.elapsed();
    placing
}

/// The JSON messages of a socket until it closes, each with the instant its frame arrived.
fn json_messages(stream: SplitStream<Socket>) -> impl futures::Stream<Item = (Value, Instant)> {
    stream.take_while(|frame| std::future::ready(frame.is_ok())).filter_map(|frame| {
        let at = Instant::now();
        std::future::ready(match frame {
            Ok(Message::Text(text)) => Some((serde_json::from_str(text.as_str()).unwrap_or(Value::Null), at)),
            _ => None,
        })
    })
}

/// What a socket's reader makes of one message.
enum Seen {
    /// The socket is live (the tablet's snapshot, `connection_ack`).
    Live,
    /// An event, by its key.
    Event(String),
    /// Answer at once (a protocol ping).
    Reply(Value),
    Nothing,
}

/// One WebSocket: a reader task that stamps what `classify` makes of each message the moment
/// its frame arrives, and a writer shared with it.
struct Connection {
    arrivals: Arrivals,
    sink: Arc<tokio::sync::Mutex<SplitSink<Socket, Message>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Connection {
    /// Connects, sends `hello` if any, and returns once `classify` has seen the socket live.
    async fn open(
        what: &str,
        request: Request,
        hello: Option<Value>,
        classify: impl Fn(&Value) -> Seen + Send + 'static,
    ) -> anyhow::Result<Self> {
        let (socket, _) = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(
                request,
                Some(WebSocketConfig::default().read_buffer_size(READ_BUFFER)),
                NO_NAGLE,
            ),
        )
        .await
        .with_context(|| format!("connecting a {what} timed out"))?
        .with_context(|| format!("connecting a {what}"))?;
        let (mut sink, stream) = socket.split();
        if let Some(hello) = hello {
            sink.send(Message::text(hello.to_string())).await.with_context(|| format!("greeting as a {what}"))?;
        }
        let sink = Arc::new(tokio::sync::Mutex::new(sink));
        let arrivals = Arrivals::default();
        let (live, is_live) = tokio::sync::oneshot::channel();
        let (seen, replies) = (arrivals.clone(), sink.clone());
        let reader = tokio::spawn(async move {
            let mut live = Some(live);
            let messages = json_messages(stream);
            futures::pin_mut!(messages);
            while let Some((message, at)) = messages.next().await {
                match classify(&message) {
                    Seen::Live => {
                        if let Some(live) = live.take() {
                            let _ = live.send(());
                        }
                    }
                    Seen::Event(key) => seen.record(key, at),
                    Seen::Reply(answer) => {
                        let _ = replies.lock().await.send(Message::text(answer.to_string())).await;
                    }
                    Seen::Nothing => {}
                }
            }
        });
        tokio::time::timeout(CONNECT_TIMEOUT, is_live)
            .await
            .with_context(|| format!("the {what} was not live in time"))?
            .with_context(|| format!("the {what} closed before it was live"))?;
        Ok(Self { arrivals, sink, reader })
    }

    async fn send(&self, message: Value) -> anyhow::Result<()> {
        self.sink.lock().await.send(Message::text(message.to_string())).await.context("writing to a socket")
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A kitchen tablet on the kitchen's WebSocket.
pub struct Tablet {
    pub arrivals: Arrivals,
    connection: Connection,
}

impl Tablet {
    /// Connects and waits for the snapshot, so the tablet is live when this returns.
    pub async fn connect(kitchen: &str, token: &str) -> anyhow::Result<Self> {
        let mut request = format!("ws://{kitchen}/ws").into_client_request()?;
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
        let connection = Connection::open("tablet", request, None, |message| {
            let order = message["orderId"].as_str().unwrap_or_default();
            match message["type"].as_str() {
                Some("snapshot") => Seen::Live,
                Some("ticket") => Seen::Event(key(order, message["ticket"]["status"].as_str().unwrap_or_default())),
                Some("error") => {
                    eprintln!("tablet: {} refused for {order}: {}", message["code"], message["message"]);
                    Seen::Event(key(order, "REFUSED"))
                }
                _ => Seen::Nothing,
            }
        })
        .await?;
        Ok(Self { arrivals: connection.arrivals.clone(), connection })
    }

    /// Moves an order one step forward, as a cook's tap does.
    pub async fn bump(&self, order_id: &str) -> anyhow::Result<()> {
        self.connection.send(json!({ "type": "bump", "orderId": order_id })).await.context("sending a bump")
    }
}

/// A `graphql-transport-ws` connection to the gateway carrying any number of subscriptions.
pub struct Subscriber {
    pub arrivals: Arrivals,
    connection: Connection,
    pinger: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Connects and waits for `connection_ack`.
    pub async fn connect(graphql_url: &str, token: &str) -> anyhow::Result<Self> {
        let mut request = graphql_url.replacen("http", "ws", 1).into_client_request()?;
        request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
        let connection =
            Connection::open("subscriber", request, Some(init), |message| match message["type"].as_str() {
                Some("connection_ack") => Seen::Live,
                Some("ping") => Seen::Reply(json!({ "type": "pong" })),
                // A refusal is counted as the subscription's `REFUSED` arrival, so a caller can
                // subscribe again as a browser would (the gateway sheds what it cannot take).
                Some("error") => {
                    eprintln!("subscription {} refused: {}", message["id"], message["payload"]);
                    message["id"].as_str().map_or(Seen::Nothing, |id| Seen::Event(key(id, REFUSED)))
                }
                Some("next") if !message["payload"]["errors"].is_null() => {
                    eprintln!("subscription {} refused: {}", message["id"], message["payload"]["errors"]);
                    message["id"].as_str().map_or(Seen::Nothing, |id| Seen::Event(key(id, REFUSED)))
                }
                Some("next") => {
                    let data = &message["payload"]["data"];
                    if let Some(id) = data["orderCreated"]["id"].as_str() {
                        Seen::Event(key(id, "PLACED"))
                    } else if let Some(id) = data["orderStatusChanged"]["orderId"].as_str() {
                        Seen::Event(key(id, data["orderStatusChanged"]["status"].as_str().unwrap_or_default()))
                    } else {
                        Seen::Nothing
                    }
                }
                _ => Seen::Nothing,
            })
            .await?;
        let pings = connection.sink.clone();
        let pinger = tokio::spawn(async move {
            loop {
                tokio::time::sleep(PING_EVERY).await;
                let ping = Message::text(json!({ "type": "ping" }).to_string());
                if pings.lock().await.send(ping).await.is_err() {
                    return;
                }
            }
        });
        Ok(Self { arrivals: connection.arrivals.clone(), connection, pinger })
    }

    /// Starts subscription `id`.
    pub async fn subscribe(&self, id: &str, query: &str, variables: Value) -> anyhow::Result<()> {
        let message = json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } });
        self.connection.send(message).await.context("subscribing")
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.pinger.abort();
    }
}
