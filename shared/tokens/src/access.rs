//! What a token may do: roles, the claims of a user token, and an `Access` (operation,
//! resource, allowed principals) that the verifier decides with datalog policies.

use uuid::Uuid;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Customer,
    KitchenStaff,
}

impl Role {
    /// As written in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "CUSTOMER",
            Self::KitchenStaff => "KITCHEN_STAFF",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "CUSTOMER" => Some(Self::Customer),
            "KITCHEN_STAFF" => Some(Self::KitchenStaff),
            _ => None,
        }
    }

    /// As written in token facts.
    pub(crate) fn datalog(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::KitchenStaff => "kitchen_staff",
        }
    }

    pub(crate) fn from_datalog(value: &str) -> Option<Self> {
        match value {
            "customer" => Some(Self::Customer),
            "kitchen_staff" => Some(Self::KitchenStaff),
            _ => None,
        }
    }
}

/// Who a user token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserClaims {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
}

/// Who is calling, as proven by a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(UserClaims),
    /// Another service of the platform (`service(name)`).
    Service(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Read,
    Write,
    /// Exchanging a service's deploy-time credential for a short-lived service token: the one
    /// thing a credential may do.
    Renew,
}

impl Operation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Renew => "renew",
        }
    }
}

/// One thing a caller wants to do: the facts the authorizer adds (`operation`, `resource`,
/// `resource_id`) and who may do it.
#[derive(Debug, Clone)]
pub struct Access {
    pub operation: Operation,
    /// `order`, `ticket`, `user`, `menu`...
    pub resource: &'static str,
    /// The one order, ticket or user concerned, if any.
    pub resource_id: Option<String>,
    /// Which principals may: only these roles (any user when empty), or services only.
    pub allowed: Allowed,
    /// Which services may make the call (by the name in their service token); empty: any.
    /// Least privilege between services: the kitchen's token cannot do what only the gateway
    /// may.
    pub callers: &'static [&'static str],
}

#[derive(Debug, Clone)]
pub enum Allowed {
    /// Any signed-in user.
    AnyUser,
    /// Users with one of these roles.
    Roles(&'static [Role]),
    /// Platform services (service tokens) only.
    Services,
    /// A service's deploy-time credential (`service_credential(name)`, minted by
    /// `users mint-service-token`), and nothing else.
    ServiceCredentials,
}

impl Access {
    pub fn read(resource: &'static str) -> Self {
        Self { operation: Operation::Read, resource, resource_id: None, allowed: Allowed::AnyUser, callers: &[] }
    }

    pub fn write(resource: &'static str) -> Self {
        Self { operation: Operation::Write, resource, resource_id: None, allowed: Allowed::AnyUser, callers: &[] }
    }

    /// Exchanging a service credential for a short-lived service token.
    pub fn renew_service_token() -> Self {
        Self {
            operation: Operation::Renew,
            resource: "service-token",
            resource_id: None,
            allowed: Allowed::ServiceCredentials,
            callers: &[],
        }
    }

    pub fn of(mut self, id: impl ToString) -> Self {
        self.resource_id = Some(id.to_string());
        self
    }

    pub fn for_roles(mut self, roles: &'static [Role]) -> Self {
        self.allowed = Allowed::Roles(roles);
        self
    }

    /// Only these services may make the call.
    pub fn from_services(mut self, callers: &'static [&'static str]) -> Self {
        self.callers = callers;
        self
    }

    pub fn for_services(mut self) -> Self {
        self.allowed = Allowed::Services;
        self
    }
}
