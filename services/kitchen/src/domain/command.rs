//! What a cook can do to a ticket (bump, recall, complete) and the one rule that decides where
//! each command takes it: [`TicketStatus::after`].

use super::TicketStatus;

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

#[cfg(test)]
mod tests {
    use super::*;
    use CookCommand::{Bump, Complete, Recall, Reject};
    use TicketStatus::{Accepted, Cancelled, Completed, Placed, Preparing, Ready};

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

    #[test]
    fn refusals_name_both_states_as_the_orders_service_does() {
        assert_eq!(
            Preparing.after(Recall).map_err(|e| e.to_string()),
            Err("an order cannot go from PREPARING to PREPARING".to_owned())
        );
        assert_eq!(Cancelled.after(Bump).map_err(|e| e.to_string()), Err("the order is CANCELLED already".to_owned()));
    }
}
