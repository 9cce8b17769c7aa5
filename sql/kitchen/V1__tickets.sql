-- The kitchen service's schema: one ticket per order, and the tablet change log whose sequence
-- numbers tablets resume from. Only the kitchen service reads or writes it.

CREATE TABLE kitchen.tickets (
    order_id       uuid PRIMARY KEY,
    customer_id    uuid NOT NULL,
    status         text NOT NULL,
    -- The order version this ticket reflects: an event applies only when its version is higher.
    order_version  bigint NOT NULL,
    total_cents    bigint NOT NULL,
    -- [{menuItemId, name, station, quantity, unitPriceCents, note}], as the event carried them.
    items          jsonb NOT NULL,
    -- {"PLACED": "2026-…", "ACCEPTED": …}: when the order reached each status.
    timeline       jsonb NOT NULL,
    placed_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX tickets_by_status ON kitchen.tickets (status, placed_at);

-- One row: the last sequence number handed out. Taking the next number locks this row until
-- the transaction commits, so sequence numbers become visible in order, with no gaps, across
-- every kitchen instance (a bigserial would let 7 commit before 6 and a resuming tablet skip 6).
CREATE TABLE kitchen.tablet_sequence (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_seq  bigint NOT NULL
);
INSERT INTO kitchen.tablet_sequence (only_row, last_seq) VALUES (true, 0);

-- Every ticket change a tablet is told about, by sequence number, with the ticket as it was.
CREATE TABLE kitchen.tablet_changes (
    seq          bigint PRIMARY KEY,
    order_id     uuid NOT NULL,
    ticket       jsonb NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
