-- A short number for every order, counted from 1 each day (UTC), that a person can say out
-- loud at the counter ("forty-two", shown as #042). One row per day: taking the next number
-- locks that day's row until the order's transaction commits, so numbers are never repeated.
-- Orders placed before this migration keep 0: "no number".
CREATE TABLE orders.daily_order_numbers (
    day   date PRIMARY KEY,
    last  integer NOT NULL CHECK (last >= 1)
);
ALTER TABLE orders.orders ADD COLUMN number integer NOT NULL DEFAULT 0 CHECK (number >= 0);
