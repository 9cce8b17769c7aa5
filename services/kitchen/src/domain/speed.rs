//! Speed of service: how long tickets and stations take, as the manager's page shows it.

/// Count, average and 90th percentile of a set of durations, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Durations {
    pub count: i64,
    pub average: f64,
    pub p90: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpeedReport {
    /// Tickets placed since the start, and how many of them are finished (completed or
    /// cancelled).
    pub tickets: i64,
    pub finished: i64,
    /// Placed → READY, for the tickets that got there.
    pub to_ready: Option<Durations>,
    /// Placed → the station's lines done, by station.
    pub stations: Vec<(String, Durations)>,
    /// The items that waited longest for their station (placed → done), slowest first.
    pub slowest_items: Vec<(String, String, Durations)>,
}
