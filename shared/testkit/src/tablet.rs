//! `Tablet`: a kitchen tablet's WebSocket as a test drives it.

use anyhow::Context as _;
use futures::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A kitchen tablet as a test sees it: a WebSocket that yields JSON messages.
pub struct Tablet {
    socket: Socket,
}

impl Tablet {
    /// Connects to `ws://<addr>/ws` without credentials (it must then send an `auth` message).
    pub async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let (socket, _) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await.context("connecting the tablet")?;
        Ok(Self { socket })
    }

    /// Connects with `Authorization: Bearer <token>` on the upgrade request.
    pub async fn connect_with_token(addr: std::net::SocketAddr, token: &tokens::Token) -> anyhow::Result<Self> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut request = format!("ws://{addr}/ws").into_client_request()?;
        request.headers_mut().insert("authorization", format!("Bearer {}", token.as_str()).parse()?);
        let (socket, _) = tokio_tungstenite::connect_async(request).await.context("connecting the tablet")?;
        Ok(Self { socket })
    }

    /// Waits for the kitchen to close the socket; returns the close code.
    pub async fn closed(&mut self) -> anyhow::Result<Option<u16>> {
        tokio::time::timeout(crate::DEADLINE, async {
            while let Some(frame) = self.socket.next().await {
                match frame {
                    Ok(Message::Close(frame)) => return Ok(frame.map(|f| u16::from(f.code))),
                    Ok(_) => {}
                    Err(_) => return Ok(None),
                }
            }
            Ok(None)
        })
        .await
        .context("the socket stayed open past the deadline")?
    }

    /// The next JSON text message (pings answered, other frames skipped), within the deadline.
    pub async fn next_json(&mut self) -> anyhow::Result<serde_json::Value> {
        tokio::time::timeout(crate::DEADLINE, async {
            loop {
                let frame = self.socket.next().await.context("the socket closed")?.context("reading the socket")?;
                match frame {
                    Message::Text(text) => return serde_json::from_str(text.as_str()).context("a message is not JSON"),
                    Message::Ping(payload) => self.socket.send(Message::Pong(payload)).await?,
                    Message::Close(frame) => anyhow::bail!("the kitchen closed the socket: {frame:?}"),
                    _ => {}
                }
            }
        })
        .await
        .context("no message within the deadline")?
    }

    /// The next message of `type`, skipping others.
    pub async fn next_of_type(&mut self, kind: &str) -> anyhow::Result<serde_json::Value> {
        loop {
            let message = self.next_json().await?;
            if message["type"] == kind {
                return Ok(message);
            }
        }
    }

    pub async fn send_json(&mut self, value: &serde_json::Value) -> anyhow::Result<()> {
        self.socket.send(Message::text(value.to_string())).await.context("sending to the kitchen")
    }
}
