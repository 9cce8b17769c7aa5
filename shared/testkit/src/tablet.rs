use anyhow::Context as _;
use futures::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A kitchen tablet as a test sees it: a WebSocket that yields JSON messages.
pub struct Tablet {
    socket: Socket,
}

impl Tablet {
    /// Connects to `ws://<addr>/ws`.
    pub async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .context("connecting the tablet")?;
        Ok(Self { socket })
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
