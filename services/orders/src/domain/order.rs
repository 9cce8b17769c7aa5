//! An order, its lines, its timeline and its lifecycle: `OrderStatus::check_transition` is
//! the one place a status change is decided.

use super::{CartLine, Cents, CustomerId, Dish, MenuItemId, Note, OrderId, Quantity};
use chrono::{DateTime, SubsecRound as _, Utc};

/// Now, to the microsecond: the precision PostgreSQL keeps, so an order answered right after
/// it was written equals the order read back later.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Where an order is in its life:
/// `PLACED → ACCEPTED → PREPARING → READY → COMPLETED`, `CANCELLED` from `PLACED` or
/// `ACCEPTED`, and the kitchen's one step back, `READY → PREPARING` (a recall).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Placed,
    Accepted,
    Preparing,
    Ready,
    Completed,
    Cancelled,
}

/// A transition the lifecycle does not allow; says both states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {} to {}", from.as_str(), to.as_str())]
pub struct TransitionRefused {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl OrderStatus {
    pub const ALL: [Self; 6] =
        [Self::Placed, Self::Accepted, Self::Preparing, Self::Ready, Self::Completed, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "PLACED",
            Self::Accepted => "ACCEPTED",
            Self::Preparing => "PREPARING",
            Self::Ready => "READY",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// No change can follow: such orders are not kept in memory.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    pub fn check_transition(self, to: Self) -> Result<(), TransitionRefused> {
        use OrderStatus::*;
        let allowed = matches!(
            (self, to),
            (Placed, Accepted)
                | (Accepted, Preparing)
                | (Preparing, Ready)
                | (Ready, Completed)
                | (Placed | Accepted, Cancelled)
                | (Ready, Preparing)
        );
        if allowed { Ok(()) } else { Err(TransitionRefused { from: self, to }) }
    }
}

/// One line of a placed order, with the name, station and price the item had then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub menu_item_id: MenuItemId,
    pub name: String,
    pub station: String,
    /// The dish's prep minutes when ordered (the kitchen's promise is planned with them).
    pub prep_minutes: i32,
    pub quantity: Quantity,
    pub unit_price: Cents,
    pub note: Option<Note>,
}

impl OrderLine {
    /// The cart's line with its dish as the menu has it now.
    pub fn new(line: &CartLine, dish: &Dish) -> Self {
        Self {
            menu_item_id: line.menu_item_id,
            name: dish.name.clone(),
            station: dish.station.clone(),
            prep_minutes: dish.prep_minutes,
            quantity: line.quantity,
            unit_price: dish.price,
            note: line.note.clone(),
        }
    }

    /// The dish as this line copied it.
    pub fn dish(&self) -> Dish {
        Dish {
            name: self.name.clone(),
            station: self.station.clone(),
            prep_minutes: self.prep_minutes,
            price: self.unit_price,
        }
    }
}

/// When the order reached a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusReached {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
}

/// An order at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub customer_id: CustomerId,
    /// The short number of the day (from 1; 0 for orders placed before numbers existed).
    pub number: u32,
    pub status: OrderStatus,
    pub version: i64,
    pub lines: Vec<OrderLine>,
    pub total: Cents,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub timeline: Vec<StatusReached>,
    /// How the customer is served and where.
    pub service: Service,
    /// Why it was cancelled or rejected, when it was and someone said.
    pub cancel_reason: Option<String>,
    /// When the kitchen promises it ready; `None` until the kitchen has planned it.
    pub ready_by: Option<DateTime<Utc>>,
    /// How many times the promise moved: moving it does not change `version`.
    pub promise_revision: i64,
}

/// How the customer is served, chosen at checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderType {
    /// Not said (orders from before order types, and clients that do not ask).
    #[default]
    Unspecified,
    DineIn,
    Takeaway,
}

impl OrderType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "UNSPECIFIED",
            Self::DineIn => "DINE_IN",
            Self::Takeaway => "TAKEAWAY",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Unspecified, Self::DineIn, Self::Takeaway].into_iter().find(|t| t.as_str() == value)
    }
}

/// Characters in a table label, at most.
pub const MAX_TABLE_CHARS: usize = 24;

/// A table number or a name to call ("12", "Terrace 3", "Sam"): trimmed, 1 to 24 printable
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLabel(String);

/// A table label that is empty, too long or not printable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a table is 1 to {MAX_TABLE_CHARS} printable characters, like 12 or Terrace 3")]
pub struct BadTable;

impl TableLabel {
    pub fn parse(value: &str) -> Result<Self, BadTable> {
        let value = value.trim();
        let good =
            !value.is_empty() && value.chars().count() <= MAX_TABLE_CHARS && !value.chars().any(char::is_control);
        if good { Ok(Self(value.to_owned())) } else { Err(BadTable) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How and where an order is served.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Service {
    pub kind: OrderType,
    pub table: Option<TableLabel>,
}

/// What happened to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Created,
    StatusChanged {
        from: OrderStatus,
        to: OrderStatus,
        by: String,
    },
    Cancelled {
        from: OrderStatus,
        reason: String,
        by: String,
    },
    /// The kitchen moved its ready-by promise (the order's version is unchanged).
    Promised {
        ready_by: DateTime<Utc>,
    },
}

/// A change with the order's whole state after it: what goes to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    pub event_id: uuid::Uuid,
    pub change: Change,
    pub order: Order,
}

impl Order {
    /// A new order at version 1, and its `Created` event.
    pub fn place(
        id: OrderId,
        customer_id: CustomerId,
        number: u32,
        lines: Vec<OrderLine>,
        service: Service,
        now: DateTime<Utc>,
    ) -> (Self, OrderEvent) {
        let total = lines.iter().map(|l| l.unit_price.times(l.quantity.get())).fold(Cents::default(), |a, b| a + b);
        let order = Self {
            id,
            customer_id,
            number,
            status: OrderStatus::Placed,
            version: 1,
            lines,
            total,
            created_at: now,
            updated_at: now,
            timeline: vec![StatusReached { status: OrderStatus::Placed, at: now }],
            service,
            cancel_reason: None,
            ready_by: None,
            promise_revision: 0,
        };
        let event = OrderEvent { event_id: uuid::Uuid::now_v7(), change: Change::Created, order: order.clone() };
        (order, event)
    }

    /// The order moved to `to` by `by`, at the next version, and the event saying so.
    pub fn change_status(
        &self,
        to: OrderStatus,
        by: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Self, OrderEvent), TransitionRefused> {
        self.status.check_transition(to)?;
        let mut next = self.clone();
        next.status = to;
        next.version += 1;
        next.updated_at = now;
        next.timeline.push(StatusReached { status: to, at: now });
        if to == OrderStatus::Cancelled {
            next.cancel_reason = reason.map(str::to_owned);
        }
        let change = if to == OrderStatus::Cancelled {
            Change::Cancelled { from: self.status, reason: reason.unwrap_or_default().to_owned(), by: by.to_owned() }
        } else {
            Change::StatusChanged { from: self.status, to, by: by.to_owned() }
        };
        let event = OrderEvent { event_id: uuid::Uuid::now_v7(), change, order: next.clone() };
        Ok((next, event))
    }

    /// The kitchen promises it ready by `ready_by`: the order at the same version and the next
    /// promise revision, and the event saying so. `None` when there is nothing to promise: the
    /// order is ready, finished or cancelled, or the promise is already that.
    pub fn promise(&self, ready_by: DateTime<Utc>) -> Option<(Self, OrderEvent)> {
        let waiting = matches!(self.status, OrderStatus::Placed | OrderStatus::Accepted | OrderStatus::Preparing);
        if !waiting || self.ready_by == Some(ready_by) {
            return None;
        }
        let mut next = self.clone();
        next.ready_by = Some(ready_by);
        next.promise_revision += 1;
        let event =
            OrderEvent { event_id: uuid::Uuid::now_v7(), change: Change::Promised { ready_by }, order: next.clone() };
        Some((next, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    #[test]
    fn a_table_is_a_short_printable_label_and_order_types_read_back() {
        assert_eq!(TableLabel::parse("  Terrace 3 ").map(|t| t.as_str().to_owned()), Ok("Terrace 3".to_owned()));
        for bad in ["", "   ", "a\nb", &"x".repeat(MAX_TABLE_CHARS + 1)] {
            assert_eq!(TableLabel::parse(bad), Err(BadTable), "{bad:?}");
        }
        for kind in [OrderType::Unspecified, OrderType::DineIn, OrderType::Takeaway] {
            assert_eq!(OrderType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OrderType::parse("dine_in"), None);
    }

    #[test]
    fn the_lifecycle_allows_exactly_the_documented_moves() {
        let allowed = [
            (Placed, Accepted),
            (Accepted, Preparing),
            (Preparing, Ready),
            (Ready, Completed),
            (Placed, Cancelled),
            (Accepted, Cancelled),
            (Ready, Preparing),
        ];
        for from in OrderStatus::ALL {
            for to in OrderStatus::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.check_transition(to).is_ok(), expected, "{from:?} -> {to:?}");
            }
        }
    }

    /// An independent model of the lifecycle: statuses as steps along the line, plus the two
    /// exceptions (cancel early, recall from READY).
    fn model_allows(from: OrderStatus, to: OrderStatus) -> bool {
        let step = |s| match s {
            Placed => Some(0),
            Accepted => Some(1),
            Preparing => Some(2),
            Ready => Some(3),
            Completed => Some(4),
            Cancelled => None,
        };
        match (step(from), step(to)) {
            (Some(a), Some(b)) => b == a + 1 || (from == Ready && to == Preparing),
            (Some(a), None) => a <= 1,
            (None, _) => false,
        }
    }

    fn any_status() -> impl proptest::strategy::Strategy<Value = OrderStatus> {
        proptest::sample::select(OrderStatus::ALL.to_vec())
    }

    proptest::proptest! {
        #[test]
        fn random_command_sequences_follow_the_model(commands in proptest::collection::vec(any_status(), 0..40)) {
            let now = Utc::now();
            let line = OrderLine {
                menu_item_id: MenuItemId::from_uuid(uuid::Uuid::nil()),
                name: "Tea".into(),
                station: "bar".into(),
                prep_minutes: 1,
                quantity: Quantity::parse(1).expect("valid"),
                unit_price: Cents(300),
                note: None,
            };
            let (mut order, _) = Order::place(OrderId::generate(), CustomerId::from_uuid(uuid::Uuid::nil()), 1, vec![line], Service::default(), now);
            let mut model_status = Placed;
            let mut model_version = 1;
            for to in commands {
                let result = order.change_status(to, "someone", None, now);
                proptest::prop_assert_eq!(result.is_ok(), model_allows(model_status, to), "{:?} -> {:?}", model_status, to);
                match result {
                    Ok((next, event)) => {
                        model_status = to;
                        model_version += 1;
                        proptest::prop_assert_eq!(&event.order, &next);
                        order = next;
                    }
                    Err(refused) => {
                        proptest::prop_assert_eq!(refused, TransitionRefused { from: model_status, to });
                    }
                }
                proptest::prop_assert_eq!(order.status, model_status);
                proptest::prop_assert_eq!(order.version, model_version);
                proptest::prop_assert_eq!(order.timeline.len() as i64, model_version);
            }
        }
    }

    #[test]
    fn statuses_are_spelled_as_the_api_spells_them_and_read_back() {
        let spelled: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelled, ["PLACED", "ACCEPTED", "PREPARING", "READY", "COMPLETED", "CANCELLED"]);
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OrderStatus::parse("placed"), None);
        let terminal: Vec<OrderStatus> = OrderStatus::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [Completed, Cancelled]);
    }

    #[test]
    fn now_is_the_current_time_to_the_microsecond() {
        let before = Utc::now();
        let now = now();
        assert!(now >= before - chrono::Duration::microseconds(1) && now <= Utc::now(), "{now} is not now");
        assert_eq!(now.timestamp_subsec_nanos() % 1_000, 0, "{now} has nanoseconds");
    }

    #[test]
    fn a_refusal_names_both_states() {
        let refused = Completed.check_transition(Placed).expect_err("not allowed");
        assert_eq!(refused.to_string(), "an order cannot go from COMPLETED to PLACED");
    }

    #[test]
    fn a_promise_moves_the_revision_not_the_version_and_only_while_the_order_waits() {
        let now = Utc::now();
        let line = OrderLine {
            menu_item_id: MenuItemId::from_uuid(uuid::Uuid::new_v4()),
            name: "Burger".into(),
            station: "grill".into(),
            prep_minutes: 12,
            quantity: Quantity::parse(1).expect("valid"),
            unit_price: Cents(1450),
            note: None,
        };
        let (order, _) = Order::place(
            OrderId::generate(),
            CustomerId::from_uuid(uuid::Uuid::new_v4()),
            1,
            vec![line],
            Service::default(),
            now,
        );
        let by = now + chrono::TimeDelta::minutes(12);
        let (promised, event) = order.promise(by).expect("a waiting order takes a promise");
        assert_eq!((promised.version, promised.promise_revision, promised.ready_by), (1, 1, Some(by)));
        assert_eq!(event.change, Change::Promised { ready_by: by });
        assert_eq!(event.order, promised);
        assert!(promised.promise(by).is_none(), "the same promise again is no move");
        let later = by + chrono::TimeDelta::minutes(3);
        assert_eq!(promised.promise(later).map(|(o, _)| o.promise_revision), Some(2));
        // A status change keeps the promise; a ready order takes none.
        let (accepted, _) = promised.change_status(Accepted, "chef", None, now).expect("allowed");
        let (preparing, _) = accepted.change_status(Preparing, "chef", None, now).expect("allowed");
        assert_eq!((preparing.ready_by, preparing.promise_revision), (Some(by), 1));
        let (ready, _) = preparing.change_status(Ready, "chef", None, now).expect("allowed");
        assert!(ready.promise(later).is_none());
    }

    #[test]
    fn every_change_bumps_the_version_and_extends_the_timeline() {
        let now = Utc::now();
        let line = OrderLine {
            menu_item_id: MenuItemId::from_uuid(uuid::Uuid::new_v4()),
            name: "Fries".into(),
            station: "fry".into(),
            prep_minutes: 5,
            quantity: Quantity::parse(3).expect("valid"),
            unit_price: Cents(450),
            note: None,
        };
        let (order, created) = Order::place(
            OrderId::generate(),
            CustomerId::from_uuid(uuid::Uuid::new_v4()),
            1,
            vec![line],
            Service::default(),
            now,
        );
        assert_eq!(order.total, Cents(1350));
        assert_eq!(created.change, Change::Created);
        let (accepted, event) = order.change_status(Accepted, "kitchen", None, now).expect("allowed");
        assert_eq!(accepted.version, 2);
        assert_eq!(accepted.timeline.len(), 2);
        assert_eq!(event.order, accepted);
        assert_eq!(event.change, Change::StatusChanged { from: Placed, to: Accepted, by: "kitchen".into() });
        let later = now + chrono::Duration::seconds(90);
        let (cancelled, event) =
            accepted.change_status(Cancelled, "customer", Some("changed my mind"), later).expect("allowed");
        assert_eq!(cancelled.version, 3);
        assert_eq!(
            event.change,
            Change::Cancelled { from: Accepted, reason: "changed my mind".into(), by: "customer".into() }
        );
        assert_eq!((cancelled.created_at, cancelled.updated_at), (now, later));
        assert_eq!(cancelled.timeline.last(), Some(&StatusReached { status: Cancelled, at: later }));
        assert_eq!(cancelled.cancel_reason.as_deref(), Some("changed my mind"), "the order keeps why");
        assert_ne!(event.event_id, created.event_id, "every event has its own id");
    }
}
