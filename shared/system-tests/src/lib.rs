//! End-to-end tests of the real services together (`tests/`), and [`Stack`], which starts them.

use anyhow::Context as _;
use std::net::SocketAddr;
use testkit::TestDatabase;

/// Every service on port 0, on a fresh database, a topic and a consumer group of their own.
pub struct Stack {
    pub db: TestDatabase,
    pub topic: String,
    pub orders: orders::Application,
    pub kitchen: kitchen::Application,
    pub gateway: gateway::Application,
    http: reqwest::Client,
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Stack {
    /// Must run inside an actix system (`#[actix_rt::test]`).
    pub async fn start() -> anyhow::Result<Self> {
        testkit::init_logs();
        let db = TestDatabase::create().await?;
        let topic = testkit::unique_name("orders.events");
        let orders = orders::Application::build(orders::Config {
            http_addr: any_port(),
            grpc_addr: any_port(),
            database: db.settings(),
            kafka: testkit::kafka_settings(&topic),
            http_workers: 1,
            create_topics: true,
        })
        .await
        .context("starting orders")?;
        let kitchen = kitchen::Application::build(kitchen::Config {
            http_addr: any_port(),
            database: db.settings(),
            kafka: testkit::kafka_settings(&topic),
            consumer_group: testkit::unique_name("kitchen"),
            http_workers: 1,
            create_topics: true,
        })
        .await
        .context("starting kitchen")?;
        let gateway = gateway::Application::build(gateway::Config {
            http_addr: any_port(),
            orders_url: format!("http://{}", orders.grpc_addr()),
            http_workers: 1,
        })
        .await
        .context("starting gateway")?;
        Ok(Self { db, topic, orders, kitchen, gateway, http: reqwest::Client::new() })
    }

    /// Sends a GraphQL request to the gateway and returns the whole JSON answer.
    pub async fn graphql(&self, query: &str, variables: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let response = self
            .http
            .post(format!("http://{}/graphql", self.gateway.http_addr()))
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .context("calling the gateway")?;
        response.json().await.context("the gateway's answer is not JSON")
    }

    /// The value of a metric (summed over its label sets) on a service's `/metrics`.
    pub async fn metric(&self, addr: SocketAddr, name: &str) -> anyhow::Result<f64> {
        let text = self.http.get(format!("http://{addr}/metrics")).send().await?.text().await?;
        Ok(text
            .lines()
            .filter(|line| line.split(['{', ' ']).next() == Some(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum())
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
            .map(|node| (node["id"].as_str().unwrap_or_default().to_owned(), node["name"].as_str().unwrap_or_default().to_owned()))
            .collect())
    }

    pub async fn stop(self) {
        self.gateway.stop().await;
        self.kitchen.stop().await;
        self.orders.stop().await;
    }
}
