//! [`Cluster`]: N instances of every service, each a real process (the `service-instance`
//! binary of this package) on port 0, sharing one fresh database, topic, kitchen consumer group
//! and root key — so that a test can SIGKILL one and watch the others carry on.
//!
//! Each instance is configured by environment variables, as in production (`Config::from_env`),
//! and announces the ports it bound in a file the cluster waits for. Its log (stdout and stderr)
//! goes to `<service>-<i>.log` in the cluster's temporary directory, printed when it fails to
//! start; set `CLUSTER_KEEP_LOGS=1` to keep the directory after the test.
//!
//! Wiring (every service calls another by one gRPC URL, and a client of one URL does not fail
//! over by itself; in compose a service name does):
//! - instance `i` of orders, kitchen and gateway follows revocations from users `i % n`, and the
//!   gateway signs in there, so a logout taken by one users instance must reach services that
//!   ask the other;
//! - orders 0 is started first and waited on until it holds the relay lock: it is the **relay
//!   leader**; every kitchen sends its cooks' commands to it;
//! - every gateway calls, and follows `WatchOrders` of, the **last** orders instance: orders
//!   are placed through one orders instance and changed through another, so each gateway's
//!   live feed carries events the other instance wrote, and killing the relay leader leaves
//!   every gateway's feed up.

use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use testkit::{TestAuth, TestDatabase};

/// How long an instance may take to start (migrations, topics, binding) under a loaded CI.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How often the cluster looks for an instance's address file or a metric.
const POLL: Duration = Duration::from_millis(20);
/// Connections per instance's pool: eight processes share the test server with other tests.
const POOL_PER_INSTANCE: &str = "4";

/// One service process.
pub struct Instance {
    /// `orders-0`, `kitchen-1`, …
    pub name: String,
    pub http: SocketAddr,
    pub grpc: Option<SocketAddr>,
    /// The internal ops port: `/metrics` and the detailed `/readyz`.
    pub ops: SocketAddr,
    service: &'static str,
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<tokio::process::Child>,
}

impl Instance {
    async fn spawn(
        dir: &std::path::Path,
        binary: &std::path::Path,
        service: &'static str,
        index: usize,
        env: Vec<(String, String)>,
    ) -> anyhow::Result<Self> {
        let name = format!("{service}-{index}");
        let log = dir.join(format!("{name}.log"));
        let (http, binary) = (SocketAddr::from(([127, 0, 0, 1], 0)), binary.to_owned());
        let mut instance = Self { name, http, grpc: None, ops: http, service, binary, env, log, child: None };
        instance.launch(dir).await?;
        Ok(instance)
    }

    /// Starts the process and waits until it announces its addresses.
    async fn launch(&mut self, dir: &std::path::Path) -> anyhow::Result<()> {
        let addrs_file = dir.join(format!("{}.addrs", self.name));
        let _ = std::fs::remove_file(&addrs_file);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).context("opening the log")?;
        let child = tokio::process::Command::new(&self.binary)
            .arg(self.service)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("INSTANCE_ADDRS_FILE", &addrs_file)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().context("sharing the log")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.name))?;
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&addrs_file) {
                let addrs: serde_json::Value = serde_json::from_str(&text).context("the addresses are not JSON")?;
                self.http = addrs["http"].as_str().context("no http address")?.parse()?;
                self.grpc = addrs["grpc"].as_str().map(str::parse).transpose()?;
                self.ops = addrs["ops"].as_str().context("no ops address")?.parse()?;
                return Ok(());
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                anyhow::bail!("{} exited ({status}) before it listened:\n{}", self.name, self.log_tail());
            }
            anyhow::ensure!(
                started.elapsed() < START_DEADLINE,
                "{} did not listen within {START_DEADLINE:?}:\n{}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// `http://<grpc address>`.
    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc.expect("unwrap: only users and orders serve gRPC, and only they are asked"))
    }

    /// The process id, while it runs (for what `/proc` says of it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(tokio::process::Child::id)
    }

    /// Freezes the process (SIGSTOP): it holds its sockets and answers nothing, as an
    /// overloaded or paused host does, until [`Self::resume`].
    pub async fn pause(&self) -> anyhow::Result<()> {
        self.signal("-STOP").await
    }

    /// Lets a [`Self::pause`]d process run on (SIGCONT).
    pub async fn resume(&self) -> anyhow::Result<()> {
        self.signal("-CONT").await
    }

    async fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let pid = self.pid().with_context(|| format!("{} is not running", self.name))?;
        let sent = tokio::process::Command::new("kill").args([signal, &pid.to_string()]).status().await?;
        anyhow::ensure!(sent.success(), "kill {signal} {pid} failed");
        Ok(())
    }

    /// Kills the process with SIGKILL (no shutdown: sockets and sessions just end) and reaps it.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill().with_context(|| format!("killing {}", self.name))?;
            child.wait().await.with_context(|| format!("reaping {}", self.name))?;
        }
        Ok(())
    }

    /// Stops the process with SIGTERM (its graceful shutdown: a kitchen's consumer commits and
    /// leaves its group, its tablets are closed with 1012) and reaps it.
    pub async fn terminate(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().context("the instance has already exited")?;
            let sent = tokio::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().await?;
            anyhow::ensure!(sent.success(), "kill -TERM {pid} failed");
            child.wait().await.with_context(|| format!("reaping {}", self.name))?;
        }
        Ok(())
    }

    /// Starts the instance again on the ports it had (as a supervisor would restart it), so its
    /// clients' URLs stay valid.
    pub async fn restart(&mut self, dir: &std::path::Path) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "{} is still running", self.name);
        let prefix = self.service.to_uppercase();
        self.env.push((format!("{prefix}_HTTP_PORT"), self.http.port().to_string()));
        self.env.push((format!("{prefix}_OPS_PORT"), self.ops.port().to_string()));
        if let Some(grpc) = self.grpc {
            self.env.push((format!("{prefix}_GRPC_PORT"), grpc.port().to_string()));
        }
        self.launch(dir).await
    }

    /// The last lines of the instance's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// N instances of each service (see the module's documentation for the wiring).
pub struct Cluster {
    pub db: TestDatabase,
    pub topic: String,
    pub auth: TestAuth,
    pub users: Vec<Instance>,
    pub orders: Vec<Instance>,
    pub kitchens: Vec<Instance>,
    pub gateways: Vec<Instance>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Cluster {
    /// Starts `n` instances of each service from `binary` — the `service-instance` binary, which
    /// only this package's integration tests can name: `env!("CARGO_BIN_EXE_service-instance")`
    /// — and returns once every one listens and orders 0 holds the relay lock.
    pub async fn start(n: usize, binary: &str) -> anyhow::Result<Self> {
        let binary = std::path::Path::new(binary);
        anyhow::ensure!(n >= 1, "a cluster has at least one instance of each service");
        testkit::init_logs();
        let db = TestDatabase::create().await?;
        let topic = testkit::unique_name("orders.events");
        let group = testkit::unique_name("kitchen");
        let auth = TestAuth::new();
        let mut dir = tempfile::Builder::new().prefix("cluster-").tempdir().context("creating the log directory")?;
        if std::env::var_os("CLUSTER_KEEP_LOGS").is_some() {
            dir.disable_cleanup(true);
            eprintln!("cluster logs: {}", dir.path().display());
        }
        let common = vec![
            ("DATABASE_URL".to_owned(), database_url(&db)?),
            ("DATABASE_MAX_CONNECTIONS".to_owned(), POOL_PER_INSTANCE.to_owned()),
            ("KAFKA_BROKERS".to_owned(), testkit::brokers()),
            ("ORDERS_TOPIC".to_owned(), topic.clone()),
            ("ORDERS_TOPIC_PARTITIONS".to_owned(), testkit::kafka_settings(&topic).orders_topic_partitions.to_string()),
            ("HTTP_WORKERS".to_owned(), "1".to_owned()),
            ("BIND_HOST".to_owned(), "127.0.0.1".to_owned()),
            ("RUST_LOG".to_owned(), std::env::var("RUST_LOG").unwrap_or_else(|_| "info,rdkafka=warn".to_owned())),
        ];
        let with = |extra: Vec<(&str, String)>| {
            let mut env = common.clone();
            env.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
            env
        };
        let path = dir.path();
        let mut users = Vec::with_capacity(n);
        for i in 0..n {
            let env = with(vec![
                ("USERS_HTTP_PORT", "0".into()),
                ("USERS_OPS_PORT", "0".into()),
                ("USERS_GRPC_PORT", "0".into()),
                ("TOKEN_PRIVATE_KEY", auth.private_key_hex().expose().to_owned()),
            ]);
            users.push(Instance::spawn(path, binary, "users", i, env).await?);
        }
        let client = |service: &str, i: usize| {
            let settings = auth.settings(service, &users[i % n].grpc_url());
            vec![
                ("TOKEN_PUBLIC_KEY", settings.token_public_key),
                ("SERVICE_TOKEN", settings.service_token.expose().to_owned()),
                ("USERS_GRPC_URL", settings.users_url),
            ]
        };
        let http = reqwest::Client::new();
        let mut orders = Vec::with_capacity(n);
        for i in 0..n {
            let mut env = client("orders", i);
            env.extend([
                ("ORDERS_HTTP_PORT", "0".into()),
                ("ORDERS_OPS_PORT", "0".into()),
                ("ORDERS_GRPC_PORT", "0".into()),
            ]);
            orders.push(Instance::spawn(path, binary, "orders", i, with(env)).await?);
            if i == 0 {
                let leader = orders[0].ops;
                let waited = Instant::now();
                while metric_at(&http, leader, "orders_outbox_relay_leader").await.unwrap_or_default() != 1.0 {
                    anyhow::ensure!(waited.elapsed() < START_DEADLINE, "orders-0 never took the relay lock");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
        let mut kitchens = Vec::with_capacity(n);
        for i in 0..n {
            let mut env = client("kitchen", i);
            env.extend([
                ("KITCHEN_HTTP_PORT", "0".into()),
                ("KITCHEN_OPS_PORT", "0".into()),
                ("KITCHEN_CONSUMER_GROUP", group.clone()),
                ("ORDERS_GRPC_URL", orders[0].grpc_url()),
            ]);
            kitchens.push(Instance::spawn(path, binary, "kitchen", i, with(env)).await?);
        }
        let mut gateways = Vec::with_capacity(n);
        for (i, kitchen) in kitchens.iter().enumerate() {
            let mut env = client("gateway", i);
            env.extend([
                ("GATEWAY_HTTP_PORT", "0".into()),
                ("GATEWAY_OPS_PORT", "0".into()),
                ("ORDERS_GRPC_URL", orders[n - 1].grpc_url()),
                ("KITCHEN_PUBLIC_URL", format!("http://{}", kitchen.http)),
            ]);
            gateways.push(Instance::spawn(path, binary, "gateway", i, with(env)).await?);
        }
        Ok(Self { db, topic, auth, users, orders, kitchens, gateways, dir, http })
    }

    /// Where instances write their address files and logs (for [`Instance::restart`]).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The value of a metric (summed over its label sets) on `/metrics` at an instance's ops address.
    pub async fn metric(&self, addr: SocketAddr, name: &str) -> anyhow::Result<f64> {
        metric_at(&self.http, addr, name).await
    }

    /// A GraphQL request to the gateway at `gateway` (with `Authorization: Bearer`, when given).
    pub async fn graphql(
        &self,
        gateway: SocketAddr,
        token: Option<&tokens::Token>,
        query: &str,
        variables: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        crate::graphql_at(&self.http, gateway, token, query, variables).await
    }

    /// A kitchen staff account made as operators make it, signed in through `gateway`.
    pub async fn kitchen_staff(&self, gateway: SocketAddr) -> anyhow::Result<tokens::Token> {
        crate::kitchen_staff_at(&self.http, gateway, &self.db, &self.auth).await
    }

    /// Registers a new customer through `gateway`; returns their id and token.
    pub async fn register_customer(&self, gateway: SocketAddr) -> anyhow::Result<(String, tokens::Token)> {
        crate::register_customer_at(&self.http, gateway).await
    }
}

/// A metric's value, summed over its label sets.
async fn metric_at(http: &reqwest::Client, addr: SocketAddr, name: &str) -> anyhow::Result<f64> {
    let text = http.get(format!("http://{addr}/metrics")).send().await?.text().await?;
    Ok(crate::metric_in(&text, name))
}

/// `DATABASE_URL` of the test run, pointed at the cluster's database: a URL gets the name as
/// its path, key-value pairs get `dbname=` (the last one counts).
fn database_url(db: &TestDatabase) -> anyhow::Result<String> {
    let base = service_kit::config::env_or("DATABASE_URL", "host=/var/run/postgresql dbname=restaurant");
    Ok(match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority_and_path, query) = rest.split_once('?').map_or((rest, None), |(a, q)| (a, Some(q)));
            let authority = authority_and_path.split('/').next().unwrap_or_default();
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            format!("{scheme}://{authority}/{}{query}", db.name())
        }
        None => format!("{base} dbname={}", db.name()),
    })
}
