-- The kitchen's promise: when it plans each ticket ready (shared/ready-by), kept on the ticket
-- as last told to the orders service; NULL until planned.
ALTER TABLE kitchen.tickets ADD COLUMN ready_by timestamptz;
