//! End-to-end tests of the real services together (`tests/`), [`Stack`], which starts one of
//! each in this process, [`Cluster`], which starts N of each as processes a test may kill, and
//! [`Subscriber`], a GraphQL subscription client.

pub mod cluster;
pub mod compose_file;
mod subscriber;

pub use cluster::{Cluster, Instance};
pub use subscriber::Subscriber;

use anyhow::Context as _;
use service_kit::http::AllowedOrigins;
use std::net::SocketAddr;
use testkit::{TestAuth, TestDatabase};
use tokens::Token;

/// Every service on port 0, on a fresh database, a topic, a consumer group and a root key of
/// their own.
pub struct Stack {
    pub db: TestDatabase,
    pub topic: String,
    pub auth: TestAuth,
    pub users: users::Application,
    pub orders: orders::Application,
    pub kitchen: kitchen::Application,
    pub gateway: gateway::Application,
    http: reqwest::Client,
}

/// The web UI's origin in tests.
pub const WEB_ORIGIN: &str = "http://localhost:3000";

/// The orders service of a stack, on the given addresses.
fn orders_config(
    db: &TestDatabase,
    topic: &str,
    auth: &TestAuth,
    users_url: &str,
    http_addr: SocketAddr,
    grpc_addr: SocketAddr,
) -> orders::Config {
    orders::Config {
        http_addr,
        grpc_addr,
        ..orders::Config::for_tests(
            db.settings(),
            testkit::kafka_settings(topic),
            auth.credential_settings("orders", users_url),
        )
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Stack {
    /// Must run inside an actix system (`#[actix_rt::test]`).
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Like [`Self::start`], with the gateway's settings changed by `gateway` first (a test's
    /// own limits, a trusted proxy).
    pub async fn start_with(gateway: impl FnOnce(&mut gateway::Config)) -> anyhow::Result<Self> {
        Self::start_tuned(|_| {}, gateway).await
    }

    /// Like [`Self::start_with`], with the users service's settings changed by `users` too.
    pub async fn start_tuned(
        users: impl FnOnce(&mut users::Config),
        gateway: impl FnOnce(&mut gateway::Config),
    ) -> anyhow::Result<Self> {
        testkit::init_logs();
        let db = TestDatabase::create().await?;
        let topic = testkit::unique_name("orders.events");
        let auth = TestAuth::new();
        let mut users_config = users::Config::for_tests(db.settings(), auth.private_key_hex());
        users(&mut users_config);
        let users = users::Application::build(users_config).await.context("starting users")?;
        let users_url = format!("http://{}", users.grpc_addr());
        let orders = orders::Application::build(orders_config(&db, &topic, &auth, &users_url, any_port(), any_port()))
            .await
            .context("starting orders")?;
        let kitchen = kitchen::Application::build(kitchen::Config {
            orders_url: format!("http://{}", orders.grpc_addr()),
            allowed_origins: AllowedOrigins::parse(WEB_ORIGIN),
            ..kitchen::Config::for_tests(
                db.settings(),
                testkit::kafka_settings(&topic),
                auth.credential_settings("kitchen", &users_url),
                testkit::unique_name("kitchen"),
            )
        })
        .await
        .context("starting kitchen")?;
        let mut gateway_config = gateway::Config {
            allowed_origins: AllowedOrigins::parse(WEB_ORIGIN),
            ..gateway::Config::for_tests(
                format!("http://{}", orders.grpc_addr()),
                auth.credential_settings("gateway", &users_url),
                format!("http://{}", kitchen.http_addr()),
            )
        };
        gateway(&mut gateway_config);
        let gateway = gateway::Application::build(gateway_config).await.context("starting gateway")?;
        let stack = Self { db, topic, auth, users, orders, kitchen, gateway, http: reqwest::Client::new() };
        stack.until_ready().await;
        Ok(stack)
    }

    /// Every service refuses user tokens (UNAVAILABLE) until its revocation list has loaded
    /// once, and orders and the kitchen are not ready until their topics exist: waits for both,
    /// as a client retries UNAVAILABLE and a load balancer waits for `/readyz`, so tests start
    /// from a ready stack.
    async fn until_ready(&self) {
        testkit::eventually("orders and the kitchen to be ready", || async {
            for ops in [self.orders.ops_addr(), self.kitchen.ops_addr()] {
                let ready = self.http.get(format!("http://{ops}/readyz")).send().await.ok()?;
                if ready.status() != reqwest::StatusCode::OK {
                    return None;
                }
            }
            Some(())
        })
        .await;
        let (_, chef) = self.auth.user_token(tokens::Role::KitchenStaff);
        testkit::eventually("every service to have loaded its revocation list", || async {
            // Through the gateway to orders, then the kitchen.
            let answer = self
                .graphql_as(Some(&chef), "{ orders(first: 1) { edges { node { id } } } }", serde_json::json!({}))
                .await;
            if !answer.ok()?["errors"].is_null() {
                return None;
            }
            let tickets =
                self.http.get(format!("http://{}/tickets", self.kitchen.http_addr())).bearer_auth(chef.as_str());
            (tickets.send().await.ok()?.status() == reqwest::StatusCode::OK).then_some(())
        })
        .await;
    }

    /// Sends an anonymous GraphQL request to the gateway and returns the whole JSON answer.
    pub async fn graphql(&self, query: &str, variables: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        self.graphql_as(None, query, variables).await
    }

    /// Sends a GraphQL request with `Authorization: Bearer <token>` (when given).
    pub async fn graphql_as(
        &self,
        token: Option<&Token>,
        query: &str,
        variables: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        graphql_at(&self.http, self.gateway.http_addr(), token, query, variables).await
    }

    /// Places an order of `quantity` × `item` as `customer` over GraphQL; returns its id.
    pub async fn place_order(&self, customer: &Token, item: &str, quantity: i32) -> anyhow::Result<String> {
        let answer = self
            .graphql_as(
                Some(customer),
                "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
                serde_json::json!({ "i": { "items": [{ "menuItemId": item, "quantity": quantity }] } }),
            )
            .await?;
        Ok(answer["data"]["createOrder"]["id"].as_str().ok_or_else(|| anyhow::anyhow!("{answer}"))?.to_owned())
    }

    /// Registers a new customer over GraphQL; returns their id and token.
    pub async fn register_customer(&self) -> anyhow::Result<(String, Token)> {
        register_customer_at(&self.http, self.gateway.http_addr()).await
    }

    /// A kitchen staff account made as operators make it (`users create-staff`), signed in over
    /// GraphQL; returns its token.
    pub async fn kitchen_staff(&self) -> anyhow::Result<Token> {
        kitchen_staff_at(&self.http, self.gateway.http_addr(), &self.db, &self.auth).await
    }

    /// The value of a metric (summed over its label sets) on a service's `/metrics`.
    pub async fn metric(&self, addr: SocketAddr, name: &str) -> anyhow::Result<f64> {
        let text = self.http.get(format!("http://{addr}/metrics")).send().await?.text().await?;
        Ok(metric_in(&text, name))
    }

    /// The ids of the first `n` available items of a menu category, via GraphQL.
    pub async fn menu_ids(&self, category: &str, n: usize) -> anyhow::Result<Vec<(String, String)>> {
        let answer = self
            .graphql(
                "query($c: MenuCategory) { menuItems(first: 50, category: $c) { edges { node { id name available } } } }",
                serde_json::json!({ "c": category }),
            )
            .await?;
        let edges = answer["data"]["menuItems"]["edges"].as_array().context("no menu edges")?;
        Ok(edges
            .iter()
            .map(|e| &e["node"])
            .filter(|node| node["available"] == true)
            .take(n)
            .map(|node| {
                (
                    node["id"].as_str().unwrap_or_default().to_owned(),
                    node["name"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// Stops the orders service and starts it again on the same ports (its feed and every
    /// client must recover by themselves).
    pub async fn restart_orders(self) -> anyhow::Result<Self> {
        let Self { db, topic, auth, users, orders, kitchen, gateway, http } = self;
        let (http_addr, grpc_addr) = (orders.http_addr(), orders.grpc_addr());
        orders.stop().await;
        let users_url = format!("http://{}", users.grpc_addr());
        let orders = orders::Application::build(orders_config(&db, &topic, &auth, &users_url, http_addr, grpc_addr))
            .await
            .context("restarting orders")?;
        let stack = Self { db, topic, auth, users, orders, kitchen, gateway, http };
        stack.until_ready().await;
        Ok(stack)
    }

    pub async fn stop(self) {
        self.gateway.stop().await;
        self.kitchen.stop().await;
        self.orders.stop().await;
        self.users.stop().await;
    }
}

/// A metric's value in a `/metrics` text, summed over its label sets.
/// The repository's root, for tests that read its files. Read at run time (cargo sets
/// `CARGO_MANIFEST_DIR` for every test it runs), not baked in with `env!`: a test binary built
/// in one checkout is reused by another that shares the target directory, and must read the
/// files of the checkout being tested.
pub fn repo() -> std::path::PathBuf {
    let package = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for the tests it runs");
    std::path::PathBuf::from(package).join("../..")
}

pub fn metric_in(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| line.split(['{', ' ']).next() == Some(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A GraphQL request to the gateway at `gateway`, with `Authorization: Bearer <token>` when
/// given; the whole JSON answer.
pub async fn graphql_at(
    http: &reqwest::Client,
    gateway: SocketAddr,
    token: Option<&Token>,
    query: &str,
    variables: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let mut request = http
        .post(format!("http://{gateway}/graphql"))
        .json(&serde_json::json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token.as_str());
    }
    let response = request.send().await.context("calling the gateway")?;
    response.json().await.context("the gateway's answer is not JSON")
}

/// Registers a new customer through the gateway at `gateway`; returns their id and token.
pub async fn register_customer_at(http: &reqwest::Client, gateway: SocketAddr) -> anyhow::Result<(String, Token)> {
    let username = format!("guest-{}", &uuid_like()[..12]);
    let answer = graphql_at(
        http,
        gateway,
        None,
        "mutation($input: RegisterInput!) { register(input: $input) { token user { id role } } }",
        serde_json::json!({ "input": { "username": username, "password": "correct horse battery" } }),
    )
    .await?;
    let payload = &answer["data"]["register"];
    anyhow::ensure!(payload["user"]["role"] == "CUSTOMER", "registration failed: {answer}");
    let id = payload["user"]["id"].as_str().context("no user id")?.to_owned();
    let token = payload["token"].as_str().context("no token")?;
    Ok((id, Token::new(token)))
}

/// A kitchen staff account made as operators make it (`users create-staff`) in `db`, signed in
/// through the gateway at `gateway`; returns its token.
pub async fn kitchen_staff_at(
    http: &reqwest::Client,
    gateway: SocketAddr,
    db: &TestDatabase,
    auth: &TestAuth,
) -> anyhow::Result<Token> {
    let username = format!("chef-{}", &uuid_like()[..12]);
    users::admin::create_staff(&db.settings(), auth.private_key_hex().expose(), &username, "kitchen-local").await?;
    let answer = graphql_at(
        http,
        gateway,
        None,
        "mutation($input: LoginInput!) { login(input: $input) { token user { role } } }",
        serde_json::json!({ "input": { "username": username, "password": "kitchen-local" } }),
    )
    .await?;
    anyhow::ensure!(answer["data"]["login"]["user"]["role"] == "KITCHEN_STAFF", "staff login failed: {answer}");
    Ok(Token::new(answer["data"]["login"]["token"].as_str().context("no token")?))
}

fn uuid_like() -> String {
    testkit::unique_name("x").trim_start_matches("x-").to_owned()
}
