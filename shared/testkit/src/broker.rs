//! `PrivateBroker`: a Kafka-API broker of one test's own that it can stop and start again.

use anyhow::Context as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a broker may take to start listening.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// A Kafka-API broker (tansu on SQLite) of one test's own, on a random port, with its data in a
/// temporary directory, so a test can stop it and start it again with the data intact.
pub struct PrivateBroker {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateBroker {
    /// Starts a broker from `TANSU_BIN` and waits until it listens.
    pub fn start() -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).context("finding a free port")?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let dir = tempfile::tempdir().context("creating the broker's directory")?;
        let mut broker = Self { addr, dir, child: None };
        broker.resume()?;
        Ok(broker)
    }

    /// `host:port` for `bootstrap.servers`.
    pub fn brokers(&self) -> String {
        self.addr.to_string()
    }

    /// Kills the broker (as a crash would).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("killing the broker")?;
            child.wait().context("waiting for the broker to exit")?;
        }
        Ok(())
    }

    /// Starts the broker again on the same port and data.
    pub fn resume(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "the broker is already running");
        let bin = std::env::var("TANSU_BIN").context("TANSU_BIN is not set (ci/test sets it)")?;
        let url = format!("tcp://{}", self.addr);
        let child = Command::new(&bin)
            .current_dir(self.dir.path())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            // tansu takes the path after sqlite:// relative to its working directory.
            .args(["--storage-engine", "sqlite://broker.db"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {bin}"))?;
        self.child = Some(child);
        let start = Instant::now();
        while TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_err() {
            anyhow::ensure!(start.elapsed() < START_DEADLINE, "the broker did not listen within {START_DEADLINE:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
