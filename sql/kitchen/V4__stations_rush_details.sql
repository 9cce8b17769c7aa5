-- Stations, rush and the order's own details on a ticket; the stations each tablet shows.

-- {"grill": "2026-…", "bar": "2026-…"}: the stations that marked their lines done, and when. The
-- kitchen's own record: an order event never changes it.
ALTER TABLE kitchen.tickets ADD COLUMN stations_done jsonb NOT NULL DEFAULT '{}';
-- The kitchen marked the ticket rush (first on every station's list). The kitchen's own too.
ALTER TABLE kitchen.tickets ADD COLUMN rush boolean NOT NULL DEFAULT false;
-- {kind, table, cancelReason}: what the order carries about itself, as its last event said.
ALTER TABLE kitchen.tickets ADD COLUMN details jsonb NOT NULL DEFAULT '{}';

-- The stations a tablet (by the name it gives) showed last: it gets them again when it
-- reconnects without saying.
CREATE TABLE kitchen.devices (
    name        text PRIMARY KEY,
    stations    text[] NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
