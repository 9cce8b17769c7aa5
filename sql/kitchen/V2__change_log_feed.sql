-- Every kitchen instance follows the tablet change log (not only the changes its own consumer
-- wrote): a commit that added changes wakes them all, and each reads on from the last sequence
-- number it pushed. NOTIFY is delivered on commit, and several in one transaction fold into one;
-- a row trigger, so that a duplicate event (which inserts nothing) wakes nobody.
CREATE FUNCTION kitchen.notify_tablet_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kitchen_tablet_changes', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER tablet_changes_notify AFTER INSERT ON kitchen.tablet_changes
    FOR EACH ROW EXECUTE FUNCTION kitchen.notify_tablet_changes();

-- The trace of the request that caused a change, so that whichever instance pushes it can put
-- it in the live tablet message.
ALTER TABLE kitchen.tablet_changes ADD COLUMN trace_id text;

-- `GET /tickets` pages through every ticket by (placed_at, order_id).
CREATE INDEX tickets_by_placing ON kitchen.tickets (placed_at, order_id);
