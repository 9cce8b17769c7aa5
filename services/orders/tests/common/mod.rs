//! Shared by the orders tests: a running service on a fresh database, topic and key.
#![allow(dead_code, unreachable_pub)]

use restaurant_proto::v1 as pb;
use restaurant_proto::v1::order_service_client::OrderServiceClient;
use testkit::{TestAuth, TestDatabase};
use tokens::{Role, Token};

/// From the demo menu (sql/orders/V2__demo_menu.sql).
pub const GARLIC_BREAD: &str = "638386e1-c6f9-5a21-aeb8-bd1f0a70e77d";
pub const BRUSCHETTA: &str = "22dbe406-f0e4-5f0b-ba15-e2f11a0a2489";

pub struct Running {
    pub app: orders::Application,
    pub db: TestDatabase,
    pub topic: String,
    pub grpc: OrderServiceClient<tonic::transport::Channel>,
    pub http: reqwest::Client,
    pub auth: TestAuth,
    /// The gateway's service token, as every gRPC call carries one.
    pub service: Token,
    /// A signed-in customer.
    pub customer: Token,
}

impl Running {
    /// A request made by the gateway on `user`'s behalf.
    pub fn as_user<T>(&self, user: &Token, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        tokens::grpc::attach(&mut request, &self.service, Some(user));
        request
    }

    /// A request the gateway makes on its own account.
    pub fn as_service<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        tokens::grpc::attach(&mut request, &self.service, None);
        request
    }

    pub fn as_customer<T>(&self, message: T) -> tonic::Request<T> {
        self.as_user(&self.customer, message)
    }
}

pub async fn start() -> anyhow::Result<Running> {
    start_with(
        TestDatabase::create().await?,
        testkit::unique_name("orders.events"),
        TestAuth::new(),
        testkit::brokers(),
    )
    .await
}

/// Another instance on the same database, topic and key (or a private broker).
pub async fn start_with(db: TestDatabase, topic: String, auth: TestAuth, brokers: String) -> anyhow::Result<Running> {
    testkit::init_logs();
    let app = orders::Application::build(orders::Config::for_tests(
        db.settings(),
        service_kit::config::KafkaSettings {
            orders_topic: topic.clone(),
            ..service_kit::config::KafkaSettings::plaintext(&brokers)
        },
        // No users service here: revocations are not followed (tested with the whole stack).
        auth.settings_without_users("orders"),
    ))
    .await?;
    let grpc = OrderServiceClient::connect(format!("http://{}", app.grpc_addr())).await?;
    let service = auth.service_token("gateway");
    let (_, customer) = auth.user_token(Role::Customer);
    Ok(Running { app, db, topic, grpc, http: reqwest::Client::new(), auth, service, customer })
}

pub fn item(id: &str, quantity: i32) -> pb::OrderItemInput {
    pb::OrderItemInput { menu_item_id: id.to_owned(), quantity, note: None }
}
