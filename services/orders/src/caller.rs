//! Who is calling, in the orders service's words: the adapters turn a verified token into a
//! [`Caller`], and the core decides with it (a customer sees only their own orders).

use crate::domain::CustomerId;
use tokens::{Role, UserClaims};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Customer(CustomerId),
    Kitchen { user_id: uuid::Uuid },
}

impl From<&UserClaims> for Caller {
    fn from(claims: &UserClaims) -> Self {
        match claims.role {
            Role::Customer => Self::Customer(CustomerId::from_uuid(claims.user_id)),
            Role::KitchenStaff => Self::Kitchen { user_id: claims.user_id },
        }
    }
}

impl Caller {
    /// May this caller see (or follow) an order of `customer`?
    pub fn may_see(&self, customer: CustomerId) -> bool {
        match self {
            Self::Customer(me) => *me == customer,
            Self::Kitchen { .. } => true,
        }
    }
}
