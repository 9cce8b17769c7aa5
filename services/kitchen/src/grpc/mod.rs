//! The kitchen's gRPC client of the orders service: tablet commands become order commands, made
//! with the kitchen's service token on the staff member's behalf (their token, forwarded).
//! The kitchen serves no gRPC itself.

use anyhow::Context as _;
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::order_service_client::OrderServiceClient;
use tokens::Token;
use tonic::transport::Channel;

/// Where a tablet command takes an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderCommand {
    /// Forward one step (PLACED → ACCEPTED → PREPARING → READY → COMPLETED).
    Bump,
    /// Back from READY to PREPARING.
    Recall,
    /// READY → COMPLETED.
    Complete,
}

/// A command the orders service refused or could not take: the code and words to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRefused {
    pub code: &'static str,
    pub message: String,
}

#[derive(Clone)]
pub struct OrdersClient {
    client: OrderServiceClient<Channel>,
    service_token: Token,
}

impl OrdersClient {
    pub fn new(url: &str, service_token: Token) -> anyhow::Result<Self> {
        let channel = service_kit::grpc::channel(url).context("ORDERS_GRPC_URL")?;
        Ok(Self { client: OrderServiceClient::new(channel), service_token })
    }

    /// Applies `command` to the order whose ticket is at `current` status; returns the new
    /// status's name.
    pub async fn apply(
        &self,
        user: &Token,
        order_id: &str,
        current: crate::domain::TicketStatus,
        command: OrderCommand,
    ) -> Result<&'static str, CommandRefused> {
        use crate::domain::TicketStatus as T;
        let next = match (command, current) {
            (OrderCommand::Recall, _) => pb::OrderStatus::Preparing,
            (OrderCommand::Complete, _) | (OrderCommand::Bump, T::Ready) => pb::OrderStatus::Completed,
            (OrderCommand::Bump, T::Placed) => pb::OrderStatus::Accepted,
            (OrderCommand::Bump, T::Accepted) => pb::OrderStatus::Preparing,
            (OrderCommand::Bump, T::Preparing) => pb::OrderStatus::Ready,
            (OrderCommand::Bump, T::Completed | T::Cancelled) => {
                return Err(CommandRefused {
                    code: "CONFLICT",
                    message: format!("the order is {} already", current.as_str()),
                });
            }
        };
        let mut client = self.client.clone();
        let result = if next == pb::OrderStatus::Completed {
            let mut request = tonic::Request::new(pb::CompleteOrderRequest { id: order_id.to_owned() });
            tokens::grpc::attach(&mut request, &self.service_token, Some(user));
            client.complete_order(request).await
        } else {
            let mut request =
                tonic::Request::new(pb::UpdateOrderStatusRequest { id: order_id.to_owned(), status: next.into() });
            tokens::grpc::attach(&mut request, &self.service_token, Some(user));
            client.update_order_status(request).await
        };
        match result {
            Ok(_) => Ok(next.as_str_name().trim_start_matches("ORDER_STATUS_")),
            Err(status) => Err(refusal(&status)),
        }
    }
}

/// The one mapping from the orders service's status to a tablet error code.
fn refusal(status: &tonic::Status) -> CommandRefused {
    use tonic::Code;
    let code = match status.code() {
        Code::InvalidArgument => "BAD_USER_INPUT",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => "CONFLICT",
        Code::PermissionDenied => "FORBIDDEN",
        Code::Unauthenticated => "UNAUTHENTICATED",
        Code::Unavailable | Code::DeadlineExceeded => "UNAVAILABLE",
        _ => {
            tracing::error!(code = ?status.code(), message = status.message(), "orders failed a tablet command");
            return CommandRefused { code: "INTERNAL", message: "internal error".into() };
        }
    };
    CommandRefused { code, message: status.message().to_owned() }
}
