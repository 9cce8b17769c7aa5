//! What a cook can do to a ticket (bump, recall, complete) and the one rule that decides where
//! each command takes it: [`TicketStatus::after`]; on a handed-over ticket, which only the
//! kitchen's own record can change, [`Ticket::remake`].

use super::{Ticket, TicketStatus};
use chrono::{DateTime, Utc};

/// A cook's command, from a tablet or the REST endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookCommand {
    /// One step forward: PLACED → ACCEPTED → PREPARING → READY → COMPLETED.
    Bump,
    /// Back to the line: READY → PREPARING.
    Recall,
    /// Hand it over: READY → COMPLETED.
    Complete,
    /// The kitchen will not make it (with a reason): PLACED or ACCEPTED → CANCELLED.
    Reject,
}

/// A station's command on its own lines of one ticket (the item bump).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StationCommand {
    /// This station's lines are done.
    Done,
    /// This station's lines are back on its list (not done after all).
    Recall,
}

/// A command the ticket's status does not allow; the words name the states involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the order is {} already", .0.as_str())]
    Finished(TicketStatus),
    /// The same words as the orders service's lifecycle refusal, so a tablet reads one sentence
    /// whichever side refused.
    #[error("an order cannot go from {} to {}", from.as_str(), to.as_str())]
    NotFrom { from: TicketStatus, to: TicketStatus },
    /// A remake's command on an order that was not handed over.
    #[error("only a handed-over order can be made again; this one is {}", .0.as_str())]
    NotHandedOver(TicketStatus),
}

impl TicketStatus {
    /// The status `command` takes a ticket at this status to, or why it cannot. The orders
    /// service checks the order's own (current) status again when it applies the change.
    pub fn after(self, command: CookCommand) -> Result<TicketStatus, Refused> {
        use TicketStatus::{Accepted, Cancelled, Completed, Placed, Preparing, Ready};
        match (command, self) {
            (_, Completed | Cancelled) => Err(Refused::Finished(self)),
            (CookCommand::Bump, Placed) => Ok(Accepted),
            (CookCommand::Bump, Accepted) => Ok(Preparing),
            (CookCommand::Bump, Preparing) => Ok(Ready),
            (CookCommand::Bump | CookCommand::Complete, Ready) => Ok(Completed),
            (CookCommand::Recall, Ready) => Ok(Preparing),
            (CookCommand::Reject, Placed | Accepted) => Ok(Cancelled),
            (CookCommand::Reject, from) => Err(Refused::NotFrom { from, to: Cancelled }),
            (CookCommand::Recall, from) => Err(Refused::NotFrom { from, to: Preparing }),
            (CookCommand::Complete, from) => Err(Refused::NotFrom { from, to: Completed }),
        }
    }
}

impl TicketStatus {
    /// The statuses the order moves through after a station's command, given whether every
    /// station on the ticket is done afterwards: the last station done takes the order to READY
    /// (one step at a time, as the orders service allows), and a station recalled takes a READY
    /// order back to PREPARING. Nothing for an order whose stations are still at work.
    pub fn after_station(self, command: StationCommand, every_station_done: bool) -> Result<Vec<Self>, Refused> {
        use TicketStatus::{Accepted, Cancelled, Completed, Placed, Preparing, Ready};
        Ok(match (command, self) {
            (_, Completed | Cancelled) => return Err(Refused::Finished(self)),
            (StationCommand::Done, _) if !every_station_done => vec![],
            (StationCommand::Done, Placed) => vec![Accepted, Preparing, Ready],
            (StationCommand::Done, Accepted) => vec![Preparing, Ready],
            (StationCommand::Done, Preparing) => vec![Ready],
            (StationCommand::Done, Ready) => vec![],
            (StationCommand::Recall, Ready) => vec![Preparing],
            (StationCommand::Recall, Placed | Accepted | Preparing) => vec![],
        })
    }
}

impl Ticket {
    /// What a cook's command does to a COMPLETED ticket. Its order is finished (the customer
    /// has it; the orders service's lifecycle ends there), so the kitchen keeps a remake on its
    /// own record: a recall brings the ticket back to the board to be made again, every
    /// station's lines to do again; a bump (or completion) hands the remake over again.
    /// `Ok(false)`: nothing to change (recalled twice). A rejection, or a bump with no remake,
    /// is refused as finished; any other status has its own rule, [`TicketStatus::after`].
    pub fn remake(&mut self, command: CookCommand, now: DateTime<Utc>) -> Result<bool, Refused> {
        match (command, self.status, self.remake_since) {
            (CookCommand::Recall, TicketStatus::Completed, None) => {
                self.remake_since = Some(now);
                self.stations_done.clear();
                Ok(true)
            }
            (CookCommand::Recall, TicketStatus::Completed, Some(_)) => Ok(false),
            (CookCommand::Bump | CookCommand::Complete, TicketStatus::Completed, Some(_)) => {
                self.remake_since = None;
                Ok(true)
            }
            (_, TicketStatus::Completed, _) => Err(Refused::Finished(TicketStatus::Completed)),
            (_, status, _) => Err(Refused::NotHandedOver(status)),
        }
    }

    /// The statuses the order moves through after a station's command: none for a remake
    /// (its order is finished; the expo hands it over again), else as
    /// [`TicketStatus::after_station`] says.
    pub fn steps_after_station(&self, command: StationCommand) -> Result<Vec<TicketStatus>, Refused> {
        if self.status == TicketStatus::Completed && self.remake_since.is_some() {
            return Ok(vec![]);
        }
        self.status.after_station(command, self.every_station_done())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TicketItem;
    use CookCommand::{Bump, Complete, Recall, Reject};
    use TicketStatus::{Accepted, Cancelled, Completed, Placed, Preparing, Ready};
    use uuid::Uuid;

    #[test]
    fn bumping_walks_the_line_one_step_at_a_time_until_the_order_is_served() {
        let mut status = Placed;
        let mut walked = vec![status];
        while let Ok(next) = status.after(Bump) {
            status = next;
            walked.push(status);
        }
        assert_eq!(walked, [Placed, Accepted, Preparing, Ready, Completed]);
        assert_eq!(Completed.after(Bump), Err(Refused::Finished(Completed)));
    }

    #[test]
    fn only_a_ready_order_can_be_recalled_or_completed() {
        assert_eq!(Ready.after(Recall), Ok(Preparing));
        assert_eq!(Ready.after(Complete), Ok(Completed));
        for status in [Placed, Accepted, Preparing] {
            assert_eq!(status.after(Recall), Err(Refused::NotFrom { from: status, to: Preparing }), "{status:?}");
            assert_eq!(status.after(Complete), Err(Refused::NotFrom { from: status, to: Completed }), "{status:?}");
        }
    }

    #[test]
    fn only_an_order_not_started_can_be_rejected() {
        assert_eq!(Placed.after(Reject), Ok(Cancelled));
        assert_eq!(Accepted.after(Reject), Ok(Cancelled));
        for status in [Preparing, Ready] {
            assert_eq!(status.after(Reject), Err(Refused::NotFrom { from: status, to: Cancelled }), "{status:?}");
        }
    }

    #[test]
    fn a_finished_order_refuses_every_command() {
        for status in [Completed, Cancelled] {
            for command in [Bump, Recall, Complete, Reject] {
                assert_eq!(status.after(command), Err(Refused::Finished(status)), "{status:?} {command:?}");
            }
        }
    }

    #[test]
    fn the_last_station_done_walks_the_order_to_ready_and_a_recall_brings_it_back() {
        assert_eq!(Placed.after_station(StationCommand::Done, true), Ok(vec![Accepted, Preparing, Ready]));
        assert_eq!(Accepted.after_station(StationCommand::Done, true), Ok(vec![Preparing, Ready]));
        assert_eq!(Preparing.after_station(StationCommand::Done, true), Ok(vec![Ready]));
        assert_eq!(Ready.after_station(StationCommand::Done, true), Ok(vec![]));
        for status in [Placed, Accepted, Preparing, Ready] {
            assert_eq!(status.after_station(StationCommand::Done, false), Ok(vec![]), "{status:?}");
        }
        assert_eq!(Ready.after_station(StationCommand::Recall, false), Ok(vec![Preparing]));
        for status in [Placed, Accepted, Preparing] {
            assert_eq!(status.after_station(StationCommand::Recall, false), Ok(vec![]), "{status:?}");
        }
        for status in [Completed, Cancelled] {
            for command in [StationCommand::Done, StationCommand::Recall] {
                assert_eq!(status.after_station(command, true), Err(Refused::Finished(status)));
            }
        }
    }

    fn handed_over() -> Ticket {
        let at = Utc::now();
        Ticket {
            order_id: Uuid::nil(),
            customer_id: Uuid::nil(),
            number: 42,
            status: Completed,
            order_version: 5,
            items: ["grill", "bar"]
                .map(|station| TicketItem {
                    menu_item_id: Uuid::nil(),
                    name: "Burger".into(),
                    station: station.into(),
                    prep_minutes: 5,
                    quantity: 1,
                    unit_price_cents: 100,
                    note: None,
                })
                .to_vec(),
            total_cents: 200,
            placed_at: at,
            updated_at: at,
            timeline: vec![],
            stations_done: [("grill".to_owned(), at), ("bar".to_owned(), at)].into(),
            details: Default::default(),
            rush: false,
            remake_since: None,
        }
    }

    #[test]
    fn a_recalled_handed_over_ticket_is_made_again_and_handed_over_again() {
        let mut ticket = handed_over();
        assert!(!ticket.on_the_board());
        assert_eq!(ticket.remake(Bump, Utc::now()), Err(Refused::Finished(Completed)), "nothing to hand over");
        let now = Utc::now();
        assert_eq!(ticket.remake(Recall, now), Ok(true));
        assert_eq!(ticket.remake_since, Some(now));
        assert!(ticket.stations_done.is_empty(), "every station makes its lines again");
        assert!(ticket.on_the_board());
        assert_eq!(ticket.status, Completed, "the order itself stays finished");
        assert_eq!(ticket.remake(Recall, Utc::now()), Ok(false), "a second recall changes nothing");
        assert_eq!(ticket.remake_since, Some(now));
        // Its stations mark their lines without moving the finished order anywhere.
        ticket.stations_done.insert("grill".into(), now);
        ticket.stations_done.insert("bar".into(), now);
        assert_eq!(ticket.steps_after_station(StationCommand::Done), Ok(vec![]));
        assert_eq!(ticket.remake(Reject, Utc::now()), Err(Refused::Finished(Completed)));
        assert_eq!(ticket.remake(Complete, Utc::now()), Ok(true));
        assert_eq!(ticket.remake_since, None);
        assert!(!ticket.on_the_board());
        assert_eq!(ticket.steps_after_station(StationCommand::Done), Err(Refused::Finished(Completed)));
    }

    #[test]
    fn only_a_handed_over_ticket_can_be_remade() {
        for status in [Placed, Accepted, Preparing, Ready, Cancelled] {
            let mut ticket = Ticket { status, ..handed_over() };
            for command in [Bump, Recall, Complete, Reject] {
                assert_eq!(
                    ticket.remake(command, Utc::now()),
                    Err(Refused::NotHandedOver(status)),
                    "{status:?} {command:?}"
                );
            }
            assert_eq!(ticket.remake_since, None);
        }
    }

    #[test]
    fn refusals_name_both_states_as_the_orders_service_does() {
        assert_eq!(
            Preparing.after(Recall).map_err(|e| e.to_string()),
            Err("an order cannot go from PREPARING to PREPARING".to_owned())
        );
        assert_eq!(Cancelled.after(Bump).map_err(|e| e.to_string()), Err("the order is CANCELLED already".to_owned()));
    }
}
