//! Users, their roles, and the session a sign-in returns.

use super::scalars::rfc3339;
use crate::graphql::Context;
use crate::model;
use juniper::{GraphQLEnum, ID, graphql_object};

#[derive(GraphQLEnum, Clone, Copy)]
pub enum Role {
    Customer,
    KitchenStaff,
}

impl From<model::Role> for Role {
    fn from(role: model::Role) -> Self {
        match role {
            model::Role::Customer => Self::Customer,
            model::Role::KitchenStaff => Self::KitchenStaff,
        }
    }
}

pub struct User(pub model::User);

#[graphql_object(context = Context)]
impl User {
    fn id(&self) -> ID {
        ID::new(&self.0.id)
    }
    fn username(&self) -> &str {
        &self.0.username
    }
    fn role(&self) -> Role {
        self.0.role.into()
    }
    fn created_at(&self) -> String {
        rfc3339(&self.0.created_at)
    }
}

pub struct AuthPayload(pub model::Session);

#[graphql_object(context = Context)]
impl AuthPayload {
    /// A biscuit token: send it as `Authorization: Bearer <token>`.
    fn token(&self) -> &str {
        self.0.token.as_str()
    }
    fn user(&self) -> User {
        User(self.0.user.clone())
    }
}
