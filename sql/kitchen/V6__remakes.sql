-- A handed-over ticket the kitchen recalled to make again, and since when (NULL: none). The
-- kitchen's own record: its order stays COMPLETED, and no order event ever changes it.
ALTER TABLE kitchen.tickets ADD COLUMN remake_since timestamptz;

-- The board's last handed-over tickets (the expo's list to recall from), newest first.
CREATE INDEX tickets_handed_over ON kitchen.tickets (updated_at DESC, order_id DESC) WHERE status = 'COMPLETED';
-- The tickets being remade, which the board's snapshot shows with the open ones.
CREATE INDEX tickets_remade ON kitchen.tickets (placed_at) WHERE remake_since IS NOT NULL;
