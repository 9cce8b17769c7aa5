//! Stations (grill, fry, cold, pastry, bar…: whatever the menu names) and what one tablet shows
//! of the kitchen: its [`View`], the expo's whole tickets or one or more stations' lines.

use super::Ticket;
use std::collections::BTreeSet;

/// Longest station name a tablet may ask for.
pub const MAX_STATION_LEN: usize = 32;
/// Most stations one tablet may show at once.
pub const MAX_STATIONS: usize = 16;
/// Longest device name a tablet may give.
pub const MAX_DEVICE_LEN: usize = 64;

/// A station's name as the menu spells it: lower-case letters, digits and dashes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Station(String);

/// Why a tablet's station, view or device name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadView {
    #[error("a station is a name of 1 to {MAX_STATION_LEN} lower-case letters, digits or dashes, like grill")]
    Station,
    #[error("a tablet shows at most {MAX_STATIONS} stations")]
    TooMany,
    #[error("a device name is 1 to {MAX_DEVICE_LEN} printable characters")]
    Device,
}

impl Station {
    pub fn parse(name: &str) -> Result<Self, BadView> {
        let good = !name.is_empty()
            && name.len() <= MAX_STATION_LEN
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if good { Ok(Self(name.to_owned())) } else { Err(BadView::Station) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tablet's name, under which the kitchen remembers the stations it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceName(String);

impl DeviceName {
    pub fn parse(name: &str) -> Result<Self, BadView> {
        let name = name.trim();
        let good = !name.is_empty() && name.chars().count() <= MAX_DEVICE_LEN && !name.chars().any(char::is_control);
        if good { Ok(Self(name.to_owned())) } else { Err(BadView::Device) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What one tablet shows: every station (the expo: whole tickets), or only these stations'
/// lines, on the tickets that have any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    /// Empty: every station.
    stations: BTreeSet<Station>,
}

impl View {
    /// The expo's view: whole tickets.
    pub fn expo() -> Self {
        Self::default()
    }

    /// The view of these stations (none: the expo's).
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, BadView> {
        let stations = names.into_iter().map(Station::parse).collect::<Result<BTreeSet<_>, _>>()?;
        if stations.len() > MAX_STATIONS {
            return Err(BadView::TooMany);
        }
        Ok(Self { stations })
    }

    pub fn is_expo(&self) -> bool {
        self.stations.is_empty()
    }

    pub fn stations(&self) -> impl Iterator<Item = &Station> {
        self.stations.iter()
    }

    fn shows(&self, station: &str) -> bool {
        self.is_expo() || self.stations.iter().any(|s| s.as_str() == station)
    }

    /// Whether a ticket is on this view at all: it has a line for one of its stations.
    pub fn concerns(&self, ticket: &Ticket) -> bool {
        ticket.items.iter().any(|i| self.shows(&i.station))
    }

    /// The ticket as this view shows it: only its stations' lines (and so their progress).
    pub fn restrict(&self, ticket: &Ticket) -> Ticket {
        let mut shown = ticket.clone();
        if !self.is_expo() {
            shown.items.retain(|i| self.shows(&i.station));
        }
        shown
    }
}

impl Ticket {
    /// Whether a board shows it: its order is still being made, or the kitchen is remaking it.
    /// The board's snapshot query (`store::tickets::board`) says the same in SQL.
    pub fn on_the_board(&self) -> bool {
        super::TicketStatus::OPEN.contains(&self.status) || self.remake_since.is_some()
    }

    /// The stations with lines on this ticket, in the order their first line appears.
    pub fn stations(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for item in &self.items {
            if !seen.contains(&item.station.as_str()) {
                seen.push(&item.station);
            }
        }
        seen
    }

    pub fn has_station(&self, station: &Station) -> bool {
        self.items.iter().any(|i| i.station == station.as_str())
    }

    /// Every station with lines on this ticket has marked them done.
    pub fn every_station_done(&self) -> bool {
        self.stations().iter().all(|s| self.stations_done.contains_key(*s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{TicketItem, TicketStatus};
    use chrono::Utc;
    use uuid::Uuid;

    fn ticket(stations: &[&str]) -> Ticket {
        Ticket {
            order_id: Uuid::nil(),
            customer_id: Uuid::nil(),
            number: 1,
            status: TicketStatus::Preparing,
            order_version: 3,
            items: stations
                .iter()
                .map(|s| TicketItem {
                    menu_item_id: Uuid::nil(),
                    name: format!("{s} dish"),
                    station: (*s).to_owned(),
                    prep_minutes: 5,
                    quantity: 1,
                    unit_price_cents: 100,
                    note: None,
                })
                .collect(),
            total_cents: 100,
            placed_at: Utc::now(),
            updated_at: Utc::now(),
            timeline: vec![],
            stations_done: Default::default(),
            details: Default::default(),
            rush: false,
            remake_since: None,
        }
    }

    #[test]
    fn a_station_view_shows_only_its_lines_on_tickets_that_have_any() {
        let burger_and_shake = ticket(&["grill", "bar", "grill"]);
        let grill = View::of(["grill"]).expect("a good station");
        assert!(grill.concerns(&burger_and_shake));
        let shown = grill.restrict(&burger_and_shake);
        assert_eq!(shown.items.iter().map(|i| i.station.as_str()).collect::<Vec<_>>(), ["grill", "grill"]);
        assert!(!View::of(["pastry"]).expect("a good station").concerns(&burger_and_shake));
        assert!(View::expo().concerns(&burger_and_shake));
        assert_eq!(View::expo().restrict(&burger_and_shake), burger_and_shake);
        assert_eq!(View::of([]).expect("no stations"), View::expo());
    }

    #[test]
    fn a_ticket_is_done_when_every_station_on_it_is() {
        let mut t = ticket(&["grill", "bar", "grill"]);
        assert_eq!(t.stations(), ["grill", "bar"]);
        assert!(!t.every_station_done());
        t.stations_done.insert("grill".into(), Utc::now());
        assert!(!t.every_station_done());
        t.stations_done.insert("bar".into(), Utc::now());
        assert!(t.every_station_done());
    }

    #[test]
    fn station_and_device_names_are_checked() {
        assert_eq!(Station::parse("grill").map(|s| s.as_str().to_owned()), Ok("grill".to_owned()));
        for bad in ["", "Grill", "gr ill", "grill;", &"g".repeat(MAX_STATION_LEN + 1)] {
            assert_eq!(Station::parse(bad), Err(BadView::Station), "{bad:?}");
        }
        let many: Vec<String> = (0..=MAX_STATIONS).map(|n| format!("s{n}")).collect();
        assert_eq!(View::of(many.iter().map(String::as_str)), Err(BadView::TooMany));
        assert_eq!(DeviceName::parse("  grill tablet 1 ").map(|d| d.as_str().to_owned()), Ok("grill tablet 1".into()));
        assert_eq!(DeviceName::parse(" "), Err(BadView::Device));
        assert_eq!(DeviceName::parse("a\nb"), Err(BadView::Device));
    }
}
