//! The kitchen's gRPC client of the orders service: a cook's command becomes "set the order's
//! status", made with the kitchen's service token on the cook's behalf (their token,
//! forwarded). Which status a command leads to is the domain's decision
//! ([`TicketStatus::after`](crate::domain::TicketStatus::after)); the orders service checks it
//! against the order's current state. The kitchen serves no gRPC itself.

use crate::domain::TicketStatus;
use anyhow::Context as _;
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::order_service_client::OrderServiceClient;
use service_kit::UpstreamError;
use tokens::Token;
use tonic::transport::Channel;
use uuid::Uuid;

#[derive(Clone)]
pub struct OrdersClient {
    client: OrderServiceClient<Channel>,
    /// Short-lived, renewed in the background: read afresh for every call.
    service_token: tokens::ServiceToken,
}

impl OrdersClient {
    pub fn new(url: &str, service_token: tokens::ServiceToken) -> anyhow::Result<Self> {
        let channel = service_kit::grpc::channel(url).context("ORDERS_GRPC_URL")?;
        Ok(Self { client: OrderServiceClient::new(channel), service_token })
    }

    /// Moves the order to `status` on `cook`'s behalf (COMPLETED through `CompleteOrder`, any
    /// other through `UpdateOrderStatus`). A refusal comes back in the platform's vocabulary.
    pub async fn set_status(&self, cook: &Token, order_id: Uuid, status: TicketStatus) -> Result<(), UpstreamError> {
        let mut client = self.client.clone();
        let id = order_id.to_string();
        let answer = if status == TicketStatus::Completed {
            let mut request = tonic::Request::new(pb::CompleteOrderRequest { id });
            tokens::grpc::attach_service(&mut request, &self.service_token, Some(cook));
            service_kit::grpc::within_deadline(client.complete_order(request)).await.map(drop)
        } else {
            let status = order_status(status).into();
            let mut request = tonic::Request::new(pb::UpdateOrderStatusRequest { id, status });
            tokens::grpc::attach_service(&mut request, &self.service_token, Some(cook));
            service_kit::grpc::within_deadline(client.update_order_status(request)).await.map(drop)
        };
        answer.map_err(UpstreamError::from)
    }

    /// Cancels the order on `cook`'s behalf (the kitchen rejecting it), saying why.
    pub async fn cancel(&self, cook: &Token, order_id: Uuid, reason: &str) -> Result<(), UpstreamError> {
        let mut request =
            tonic::Request::new(pb::CancelOrderRequest { id: order_id.to_string(), reason: Some(reason.to_owned()) });
        tokens::grpc::attach_service(&mut request, &self.service_token, Some(cook));
        service_kit::grpc::within_deadline(self.client.clone().cancel_order(request))
            .await
            .map(drop)
            .map_err(UpstreamError::from)
    }
}

/// The kitchen's plan of its queue, as the orders service keeps it.
#[derive(Debug, Clone)]
pub struct PlanReport {
    pub planned_at: chrono::DateTime<chrono::Utc>,
    /// How long a prep minute lasts on the kitchen's clock.
    pub prep_minute: std::time::Duration,
    /// The ready-by times that moved.
    pub promises: Vec<(Uuid, chrono::DateTime<chrono::Utc>)>,
    /// Per station, when each cook is free once the queue is made.
    pub stations: Vec<(String, Vec<chrono::DateTime<chrono::Utc>>)>,
}

impl OrdersClient {
    /// Tells the orders service the promises that moved and the kitchen's load, on the
    /// kitchen's own account (no cook is behind a plan).
    pub async fn keep_promises(&self, report: &PlanReport) -> Result<(), UpstreamError> {
        let time = |at: &chrono::DateTime<chrono::Utc>| restaurant_proto::prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: at.timestamp_subsec_nanos() as i32,
        };
        let message = pb::KeepPromisesRequest {
            promises: report
                .promises
                .iter()
                .map(|(id, at)| pb::Promise { order_id: id.to_string(), ready_by: Some(time(at)) })
                .collect(),
            stations: report
                .stations
                .iter()
                .map(|(station, free)| pb::StationLoad {
                    station: station.clone(),
                    cook_free_at: free.iter().map(time).collect(),
                })
                .collect(),
            planned_at: Some(time(&report.planned_at)),
            prep_minute_ms: i64::try_from(report.prep_minute.as_millis()).unwrap_or(i64::MAX),
        };
        let mut request = tonic::Request::new(message);
        tokens::grpc::attach_service(&mut request, &self.service_token, None);
        self.client.clone().keep_promises(request).await.map(drop).map_err(UpstreamError::from)
    }
}

/// A ticket's status is its order's status.
fn order_status(status: TicketStatus) -> pb::OrderStatus {
    match status {
        TicketStatus::Placed => pb::OrderStatus::Placed,
        TicketStatus::Accepted => pb::OrderStatus::Accepted,
        TicketStatus::Preparing => pb::OrderStatus::Preparing,
        TicketStatus::Ready => pb::OrderStatus::Ready,
        TicketStatus::Completed => pb::OrderStatus::Completed,
        TicketStatus::Cancelled => pb::OrderStatus::Cancelled,
    }
}
