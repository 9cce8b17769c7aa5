-- How and where an order is served (chosen at checkout), and why it was cancelled or rejected.
ALTER TABLE orders.orders ADD COLUMN order_type text NOT NULL DEFAULT 'UNSPECIFIED'
    CHECK (order_type IN ('UNSPECIFIED', 'DINE_IN', 'TAKEAWAY'));
-- A table number or a name to call.
ALTER TABLE orders.orders ADD COLUMN table_label text;
ALTER TABLE orders.orders ADD COLUMN cancel_reason text;
