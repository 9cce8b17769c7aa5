//! The kitchen's load as the orders service keeps it: what a cart's ready-by estimate waits
//! behind (the planning itself is `shared/ready-by`'s).

use chrono::{DateTime, Utc};
use std::time::Duration;

/// A prep minute when the kitchen has not said how long its minutes are (it has not planned
/// yet): a minute.
pub const DEFAULT_PREP_MINUTE: Duration = Duration::from_secs(60);

/// The kitchen's last plan: per station, when each cook is free after the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KitchenLoad {
    pub planned_at: DateTime<Utc>,
    /// How long a prep minute lasts on the kitchen's clock (a minute, unless a simulation runs
    /// it faster).
    pub prep_minute: Duration,
    pub stations: Vec<(String, Vec<DateTime<Utc>>)>,
}
