-- The order's short number of the day (orders assigns it; 0: an order from before numbers),
-- which the board shows as #042.
ALTER TABLE kitchen.tickets ADD COLUMN number integer NOT NULL DEFAULT 0 CHECK (number >= 0);
