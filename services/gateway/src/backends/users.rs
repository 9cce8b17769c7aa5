//! The users service's client: registration, sign-in and sign-out, and user lookups made on a
//! user's behalf.

use super::{BackendResult, Requests, convert};
use crate::model::{Session, User};
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::user_service_client::UserServiceClient;
use service_kit::grpc::within_deadline;
use std::net::IpAddr;
use tokens::Token;
use tonic::transport::Channel;

/// Vouches for the person's address ([`service_kit::grpc::CLIENT_ADDRESS`]); users believes it
/// because the call carries the gateway's service token.
fn from_client<T>(mut request: tonic::Request<T>, client: Option<IpAddr>) -> tonic::Request<T> {
    if let Some(Ok(value)) = client.map(|address| address.to_string().parse()) {
        request.metadata_mut().insert(service_kit::grpc::CLIENT_ADDRESS, value);
    }
    request
}

#[derive(Clone)]
pub struct UsersBackend {
    client: UserServiceClient<Channel>,
    requests: Requests,
}

impl UsersBackend {
    pub fn new(
        url: &str,
        service_token: tokens::ServiceToken,
        calls: &prometheus::IntCounterVec,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: UserServiceClient::new(service_kit::grpc::channel(url)?),
            requests: Requests::new(service_token, calls, "users"),
        })
    }

    /// `client`: the person's network address, which users' sign-in throttle keys on.
    pub async fn register(&self, username: String, password: String, client: Option<IpAddr>) -> BackendResult<Session> {
        let message = pb::RegisterRequest { username, password };
        let response =
            within_deadline(self.client.clone().register(from_client(self.requests.make(message, None), client)))
                .await?;
        convert::session(response.into_inner())
    }

    /// `client`: the person's network address, which users' sign-in throttle keys on.
    pub async fn login(&self, username: String, password: String, client: Option<IpAddr>) -> BackendResult<Session> {
        let message = pb::LoginRequest { username, password };
        let response =
            within_deadline(self.client.clone().login(from_client(self.requests.make(message, None), client))).await?;
        convert::session(response.into_inner())
    }

    pub async fn logout(&self, user: &Token) -> BackendResult<()> {
        within_deadline(self.client.clone().logout(self.requests.make(pb::LogoutRequest {}, Some(user)))).await?;
        Ok(())
    }

    pub async fn get_user(&self, user: &Token, id: String) -> BackendResult<User> {
        let message = pb::GetUserRequest { id };
        let response = within_deadline(self.client.clone().get_user(self.requests.make(message, Some(user)))).await?;
        convert::user(response.into_inner().user)
    }

    pub async fn get_users(&self, user: &Token, ids: Vec<String>) -> BackendResult<Vec<User>> {
        let message = pb::GetUsersRequest { ids };
        let response = within_deadline(self.client.clone().get_users(self.requests.make(message, Some(user)))).await?;
        response.into_inner().users.into_iter().map(|u| convert::user(Some(u))).collect()
    }

    pub async fn search_users(&self, user: &Token, query: String) -> BackendResult<Vec<User>> {
        let message = pb::SearchUsersRequest { query, first: 0 };
        let response =
            within_deadline(self.client.clone().search_users(self.requests.make(message, Some(user)))).await?;
        response.into_inner().users.into_iter().map(|u| convert::user(Some(u))).collect()
    }
}
