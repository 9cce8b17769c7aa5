//! The users service's client: registration, sign-in and sign-out, and user lookups made on a
//! user's behalf.

use super::{BackendResult, Requests, convert};
use crate::model::{Session, User};
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::user_service_client::UserServiceClient;
use tokens::Token;
use tonic::transport::Channel;

#[derive(Clone)]
pub struct UsersBackend {
    client: UserServiceClient<Channel>,
    requests: Requests,
}

impl UsersBackend {
    pub fn new(url: &str, service_token: Token, calls: &prometheus::IntCounterVec) -> anyhow::Result<Self> {
        Ok(Self {
            client: UserServiceClient::new(service_kit::grpc::channel(url)?),
            requests: Requests::new(service_token, calls, "users"),
        })
    }

    pub async fn register(&self, username: String, password: String) -> BackendResult<Session> {
        let message = pb::RegisterRequest { username, password };
        let response = self.client.clone().register(self.requests.make(message, None)).await?;
        convert::session(response.into_inner())
    }

    pub async fn login(&self, username: String, password: String) -> BackendResult<Session> {
        let message = pb::LoginRequest { username, password };
        let response = self.client.clone().login(self.requests.make(message, None)).await?;
        convert::session(response.into_inner())
    }

    pub async fn logout(&self, user: &Token) -> BackendResult<()> {
        self.client.clone().logout(self.requests.make(pb::LogoutRequest {}, Some(user))).await?;
        Ok(())
    }

    pub async fn get_user(&self, user: &Token, id: String) -> BackendResult<User> {
        let message = pb::GetUserRequest { id };
        let response = self.client.clone().get_user(self.requests.make(message, Some(user))).await?;
        convert::user(response.into_inner().user)
    }

    pub async fn get_users(&self, user: &Token, ids: Vec<String>) -> BackendResult<Vec<User>> {
        let message = pb::GetUsersRequest { ids };
        let response = self.client.clone().get_users(self.requests.make(message, Some(user))).await?;
        response.into_inner().users.into_iter().map(|u| convert::user(Some(u))).collect()
    }

    pub async fn search_users(&self, user: &Token, query: String) -> BackendResult<Vec<User>> {
        let message = pb::SearchUsersRequest { query, first: 0 };
        let response = self.client.clone().search_users(self.requests.make(message, Some(user))).await?;
        response.into_inner().users.into_iter().map(|u| convert::user(Some(u))).collect()
    }
}
