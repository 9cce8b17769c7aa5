//! [`Subscriber`]: a `graphql-transport-ws` client of the gateway, as the web UI speaks it.

use crate::Stack;
use anyhow::Context as _;
use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokens::Token;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest as _};

/// How often a reading subscriber pings, as the web UI does: the gateway closes a socket whose
/// client has not pinged within `gateway::sockets::KEEP_ALIVE` (15 s), which a long test outlives.
const PING_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Subscriber {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    last_ping: tokio::time::Instant,
}

impl Subscriber {
    /// Opens a socket and sends `connection_init` (with the token, when given) without waiting
    /// for the answer.
    pub async fn start(stack: &Stack, token: Option<&Token>) -> anyhow::Result<Self> {
        Self::start_at(stack.gateway.http_addr(), token).await
    }

    /// [`Self::start`] on the gateway at `gateway`.
    pub async fn start_at(gateway: std::net::SocketAddr, token: Option<&Token>) -> anyhow::Result<Self> {
        let mut request = format!("ws://{gateway}/graphql").into_client_request()?;
        request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
        let payload = match token {
            Some(token) => json!({ "authorization": format!("Bearer {}", token.as_str()) }),
            None => json!({}),
        };
        socket.send(Message::text(json!({ "type": "connection_init", "payload": payload }).to_string())).await?;
        Ok(Self { socket, last_ping: tokio::time::Instant::now() })
    }

    /// Opens a socket with `token` (or none) and waits for the answer to `connection_init`: the
    /// acknowledged socket, or the close code and reason that refused it.
    pub async fn open(stack: &Stack, token: Option<&Token>) -> anyhow::Result<Result<Self, (Option<u16>, String)>> {
        let mut subscriber = Self::start(stack, token).await?;
        let answer = tokio::time::timeout(testkit::DEADLINE, async {
            loop {
                match subscriber.socket.next().await.ok_or_else(|| anyhow::anyhow!("closed without a word"))?? {
                    Message::Text(text) => {
                        let message: Value = serde_json::from_str(text.as_str())?;
                        anyhow::ensure!(message["type"] == "connection_ack", "neither ack nor close: {message}");
                        return anyhow::Ok(None);
                    }
                    Message::Close(frame) => {
                        return Ok(Some((
                            frame.as_ref().map(|f| u16::from(f.code)),
                            frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                        )));
                    }
                    _ => {}
                }
            }
        })
        .await
        .context("no answer to connection_init")??;
        Ok(match answer {
            None => Ok(subscriber),
            Some(refused) => Err(refused),
        })
    }

    /// A socket signed in with `token`, acknowledged.
    pub async fn connect(stack: &Stack, token: &Token) -> anyhow::Result<Self> {
        Self::acknowledged(Self::start(stack, Some(token)).await?).await
    }

    /// A socket on the gateway at `gateway`, signed in with `token`, acknowledged.
    pub async fn connect_at(gateway: std::net::SocketAddr, token: &Token) -> anyhow::Result<Self> {
        Self::acknowledged(Self::start_at(gateway, Some(token)).await?).await
    }

    /// A socket without a token, acknowledged.
    pub async fn connect_anonymously(stack: &Stack) -> anyhow::Result<Self> {
        Self::acknowledged(Self::start(stack, None).await?).await
    }

    async fn acknowledged(mut subscriber: Self) -> anyhow::Result<Self> {
        let ack = subscriber.next().await?;
        anyhow::ensure!(ack["type"] == "connection_ack", "not acknowledged: {ack}");
        Ok(subscriber)
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) -> anyhow::Result<()> {
        let message = json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } });
        self.socket.send(Message::text(message.to_string())).await?;
        Ok(())
    }

    /// Closes the socket as a browser closing its tab does (a close frame, then the answer).
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.socket.close(None).await?;
        while let Some(Ok(_)) = self.socket.next().await {}
        Ok(())
    }

    /// Stops subscription `id` (the client's `complete`).
    pub async fn complete(&mut self, id: &str) -> anyhow::Result<()> {
        self.socket.send(Message::text(json!({ "id": id, "type": "complete" }).to_string())).await?;
        Ok(())
    }

    /// The error code that refused subscription `id` (juniper sends field errors as a `next`
    /// with `errors`; protocol errors come as `error`). Skips messages of other ids.
    pub async fn refusal(&mut self, id: &str) -> anyhow::Result<String> {
        let message = self.refusal_message(id).await?;
        let code = match message["type"].as_str() {
            Some("error") => &message["payload"][0]["extensions"]["code"],
            _ => &message["payload"]["errors"][0]["extensions"]["code"],
        };
        Ok(code.as_str().unwrap_or_default().to_owned())
    }

    /// The whole message that refused subscription `id` (see [`Self::refusal`]).
    pub async fn refusal_message(&mut self, id: &str) -> anyhow::Result<Value> {
        loop {
            let message = self.next().await?;
            if message["id"] != id {
                continue;
            }
            match message["type"].as_str() {
                Some("error") => return Ok(message),
                Some("next") if !message["payload"]["errors"].is_null() => return Ok(message),
                _ => continue,
            }
        }
    }

    /// The next message of operation `id` (skipping other operations').
    pub async fn next_of(&mut self, id: &str) -> anyhow::Result<Value> {
        loop {
            let message = self.next().await?;
            if message["id"] == id {
                return Ok(message);
            }
        }
    }

    /// The next protocol message other than keep-alives.
    pub async fn next(&mut self) -> anyhow::Result<Value> {
        tokio::time::timeout(testkit::DEADLINE, async {
            loop {
                let Ok(frame) = tokio::time::timeout_at(self.last_ping + PING_EVERY, self.socket.next()).await else {
                    self.socket.send(Message::text(json!({ "type": "ping" }).to_string())).await?;
                    self.last_ping = tokio::time::Instant::now();
                    continue;
                };
                match frame.ok_or_else(|| anyhow::anyhow!("closed"))?? {
                    Message::Text(text) => {
                        let message: Value = serde_json::from_str(text.as_str())?;
                        match message["type"].as_str() {
                            Some("ping") => {
                                self.socket.send(Message::text(json!({ "type": "pong" }).to_string())).await?
                            }
                            Some("pong") => {}
                            _ => return Ok(message),
                        }
                    }
                    Message::Close(frame) => anyhow::bail!("closed: {frame:?}"),
                    _ => {}
                }
            }
        })
        .await?
    }

    /// Reads until the gateway closes the socket, within `deadline`: the close code and every
    /// protocol message read before it (keep-alives left out).
    pub async fn closed_within(&mut self, deadline: std::time::Duration) -> anyhow::Result<(Option<u16>, Vec<Value>)> {
        let mut read = vec![];
        tokio::time::timeout(deadline, async {
            while let Some(frame) = self.socket.next().await {
                match frame {
                    Ok(Message::Close(frame)) => return Ok((frame.map(|f| u16::from(f.code)), read)),
                    Ok(Message::Text(text)) => {
                        let message: Value = serde_json::from_str(text.as_str())?;
                        if !matches!(message["type"].as_str(), Some("ping" | "pong")) {
                            read.push(message);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return Ok((None, read)),
                }
            }
            Ok((None, read))
        })
        .await
        .context("the socket stayed open past the deadline")?
    }

    /// Places orders until one's creation reaches this socket's `orderCreated` subscription
    /// (the gateway's upstream stream reads from the end once joined, so earlier events are not
    /// seen); returns every id placed.
    pub async fn until_an_order_arrives(
        &mut self,
        stack: &Stack,
        customer: &Token,
        item: &str,
    ) -> anyhow::Result<Vec<String>> {
        let started = std::time::Instant::now();
        let mut placed = vec![];
        loop {
            // Right after a restart a call may find a dead connection (UNAVAILABLE): a client
            // tries again, as the error says.
            match stack.place_order(customer, item, 1).await {
                Ok(id) => placed.push(id),
                Err(e) if e.to_string().contains(service_kit::ErrorKind::Unavailable.code()) => {}
                Err(e) => return Err(e),
            }
            let next = tokio::time::timeout(std::time::Duration::from_millis(500), self.next()).await;
            if let Ok(message) = next {
                let id = message?["payload"]["data"]["orderCreated"]["id"].as_str().unwrap_or_default().to_owned();
                anyhow::ensure!(placed.contains(&id), "an event for an order not placed here: {id}");
                return Ok(placed);
            }
            anyhow::ensure!(started.elapsed() < testkit::DEADLINE, "no order event reached the subscriber");
        }
    }
}
