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
