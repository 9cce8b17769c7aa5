//! The gRPC adapter: `restaurant.v1.UserService` (every call needs a service token; calls on a
//! user's behalf also the user's), standard health and reflection.

use crate::domain::{Role, User};
use crate::service::UsersService;
use restaurant_proto::v1 as pb;
use restaurant_proto::v1::user_service_server::{UserService, UserServiceServer};
use service_kit::Classified;
use tokens::{Access, TokenVerifier, grpc as auth};
use tonic::{Request, Response, Status};

/// Sign-ups, sign-ins, lookups and logouts come from the gateway only (least privilege).
const GATEWAY: &[&str] = &["gateway"];
/// Every service that verifies tokens follows revocations.
const FOLLOWERS: &[&str] = &["gateway", "orders", "kitchen"];

/// Ids per `GetUsers` call, at most (a page of orders names far fewer customers).
pub const MAX_BATCH: usize = 500;

/// The service this process serves over gRPC.
pub fn services(service: UsersService, verifier: TokenVerifier) -> service_kit::grpc::GrpcServices {
    service_kit::grpc::GrpcServices::new().with_service(UserServiceServer::new(UserApi { service, verifier }))
}

pub struct UserApi {
    service: UsersService,
    verifier: TokenVerifier,
}

fn status(error: &dyn Classified) -> Status {
    service_kit::error::grpc_status(error)
}

fn user(user: &User) -> pb::User {
    pb::User {
        id: user.id.to_string(),
        username: user.username.clone(),
        role: match user.role {
            Role::Customer => pb::Role::Customer,
            Role::KitchenStaff => pb::Role::KitchenStaff,
        }
        .into(),
        created_at: Some(restaurant_proto::prost_types::Timestamp {
            seconds: user.created_at.timestamp(),
            nanos: user.created_at.timestamp_subsec_nanos() as i32,
        }),
    }
}

fn session(session: crate::service::Session) -> pb::AuthResponse {
    pb::AuthResponse { token: session.token.as_str().to_owned(), user: Some(user(&session.user)) }
}

#[tonic::async_trait]
impl UserService for UserApi {
    async fn register(&self, request: Request<pb::RegisterRequest>) -> Result<Response<pb::AuthResponse>, Status> {
        auth::calling_service(request.metadata(), &self.verifier, &Access::write("user").from_services(GATEWAY))?;
        let from = service_kit::grpc::client_address(request.metadata());
        let body = request.into_inner();
        let created = self.service.register(&body.username, &body.password, from).await.map_err(|e| status(&e))?;
        Ok(Response::new(session(created)))
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::AuthResponse>, Status> {
        auth::calling_service(request.metadata(), &self.verifier, &Access::read("user").from_services(GATEWAY))?;
        let from = service_kit::grpc::client_address(request.metadata());
        let body = request.into_inner();
        let signed_in = self.service.login(&body.username, &body.password, from).await.map_err(|e| status(&e))?;
        Ok(Response::new(session(signed_in)))
    }

    /// Customers may look up only themselves; kitchen staff anyone.
    async fn get_user(&self, request: Request<pb::GetUserRequest>) -> Result<Response<pb::GetUserResponse>, Status> {
        let id = request.get_ref().id.clone();
        let (caller, _) = auth::calling_user(
            request.metadata(),
            &self.verifier,
            &Access::read("user").of(&id).from_services(GATEWAY),
        )?;
        if caller.role != Role::KitchenStaff && caller.user_id.to_string() != id {
            return Err(Status::permission_denied("customers may only look up themselves"));
        }
        let found = self.service.user(&id).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::GetUserResponse { user: Some(user(&found)) }))
    }

    /// Same rule as `GetUser`, per id: a customer's batch answers only their own record.
    async fn get_users(&self, request: Request<pb::GetUsersRequest>) -> Result<Response<pb::GetUsersResponse>, Status> {
        let (caller, _) =
            auth::calling_user(request.metadata(), &self.verifier, &Access::read("user").from_services(GATEWAY))?;
        let ids = &request.get_ref().ids;
        if ids.len() > MAX_BATCH {
            return Err(Status::invalid_argument(format!("at most {MAX_BATCH} ids per call")));
        }
        let ids = ids
            .iter()
            .map(|id| uuid::Uuid::parse_str(id).map_err(|_| Status::invalid_argument(format!("{id:?} is not a UUID"))))
            .collect::<Result<Vec<_>, _>>()?;
        let allowed: Vec<uuid::Uuid> =
            ids.into_iter().filter(|id| caller.role == Role::KitchenStaff || *id == caller.user_id).collect();
        let found = self.service.users(&allowed).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::GetUsersResponse { users: found.iter().map(user).collect() }))
    }

    async fn search_users(
        &self,
        request: Request<pb::SearchUsersRequest>,
    ) -> Result<Response<pb::SearchUsersResponse>, Status> {
        let (caller, _) =
            auth::calling_user(request.metadata(), &self.verifier, &Access::read("user").from_services(GATEWAY))?;
        let body = request.into_inner();
        let first = if body.first == 0 { 20 } else { i64::from(body.first) };
        let found = self.service.search(&caller, &body.query, first).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::SearchUsersResponse { users: found.iter().map(user).collect() }))
    }

    /// Revokes the forwarded user token itself.
    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Result<Response<pb::LogoutResponse>, Status> {
        let (_, token) =
            auth::calling_user(request.metadata(), &self.verifier, &Access::write("session").from_services(GATEWAY))?;
        let ids = self.verifier.revocation_ids(&token).map_err(|e| auth::status(&e))?;
        self.service.logout(ids).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn list_revocations(
        &self,
        request: Request<pb::ListRevocationsRequest>,
    ) -> Result<Response<pb::ListRevocationsResponse>, Status> {
        auth::calling_service(
            request.metadata(),
            &self.verifier,
            &Access::read("revocations").from_services(FOLLOWERS),
        )?;
        let (revocation_ids, last_seq) =
            self.service.revocations_after(request.get_ref().after_seq).await.map_err(|e| status(&e))?;
        Ok(Response::new(pb::ListRevocationsResponse { revocation_ids, last_seq }))
    }

    async fn renew_service_token(
        &self,
        request: Request<pb::RenewServiceTokenRequest>,
    ) -> Result<Response<pb::RenewServiceTokenResponse>, Status> {
        let service = auth::calling_service(request.metadata(), &self.verifier, &Access::renew_service_token())?;
        let issued = self.service.service_token(&service).map_err(|e| status(&e))?;
        let expires_at_unix = issued
            .expires_at
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX));
        Ok(Response::new(pb::RenewServiceTokenResponse { token: issued.token.as_str().to_owned(), expires_at_unix }))
    }
}
