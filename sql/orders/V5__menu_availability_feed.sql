-- The kitchen 86es a dish (and brings it back): every orders instance tells its menu watchers.
-- NOTIFY is delivered on commit; the payload is the item's id, which each instance reads back.
CREATE FUNCTION orders.notify_menu_item() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orders_menu', NEW.id::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER menu_item_availability_notify AFTER UPDATE OF available ON orders.menu_items
    FOR EACH ROW WHEN (OLD.available IS DISTINCT FROM NEW.available)
    EXECUTE FUNCTION orders.notify_menu_item();

-- Lines keep the dish's prep minutes as they were when ordered: the kitchen plans with them.
ALTER TABLE orders.order_items ADD COLUMN prep_minutes integer NOT NULL DEFAULT 0 CHECK (prep_minutes >= 0);

-- The kitchen's promise: when it plans the order ready. Moving it does not bump `version` (the
-- order itself did not change); `promise_revision` counts the moves, so an event is newer than
-- another when its (version, promise_revision) is.
ALTER TABLE orders.orders
    ADD COLUMN ready_by timestamptz,
    ADD COLUMN promise_revision bigint NOT NULL DEFAULT 0 CHECK (promise_revision >= 0);

-- The kitchen's last plan, as it reported it: per station, when each cook is free after the
-- queue ({"grill": ["2026-…", …]}), and how long a prep minute lasts on its clock. A cart's
-- estimate waits behind it.
CREATE TABLE orders.kitchen_load (
    only_row        boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    planned_at      timestamptz NOT NULL,
    prep_minute_ms  bigint NOT NULL CHECK (prep_minute_ms > 0),
    stations        jsonb NOT NULL
);
