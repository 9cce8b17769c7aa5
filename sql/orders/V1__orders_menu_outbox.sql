-- The orders service's schema: the menu, orders with their lines and timeline, the
-- transactional outbox, and idempotency keys. Only the orders service reads or writes it.

CREATE TABLE orders.menu_items (
    id            uuid PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description   text NOT NULL DEFAULT '',
    category      text NOT NULL CHECK (category IN ('STARTER', 'MAIN', 'SIDE', 'DESSERT', 'DRINK')),
    price_cents   bigint NOT NULL CHECK (price_cents >= 0),
    available     boolean NOT NULL DEFAULT true,
    station       text NOT NULL,
    prep_minutes  integer NOT NULL DEFAULT 10 CHECK (prep_minutes >= 0),
    -- Menu order within a category; also the pagination key with id.
    position      integer NOT NULL
);
CREATE UNIQUE INDEX menu_items_position ON orders.menu_items (position, id);

CREATE TABLE orders.orders (
    id           uuid PRIMARY KEY,
    customer_id  uuid NOT NULL,
    status       text NOT NULL CHECK (status IN ('PLACED', 'ACCEPTED', 'PREPARING', 'READY', 'COMPLETED', 'CANCELLED')),
    -- Bumped by every change; the optimistic check that keeps two writers from both winning.
    version      bigint NOT NULL CHECK (version >= 1),
    total_cents  bigint NOT NULL CHECK (total_cents >= 0),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX orders_by_customer ON orders.orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_by_created ON orders.orders (created_at DESC, id DESC);

-- Lines keep the name, station and price the item had when ordered.
CREATE TABLE orders.order_items (
    order_id          uuid NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
    line_no           integer NOT NULL,
    menu_item_id      uuid NOT NULL,
    name              text NOT NULL,
    station           text NOT NULL,
    quantity          integer NOT NULL CHECK (quantity BETWEEN 1 AND 50),
    unit_price_cents  bigint NOT NULL CHECK (unit_price_cents >= 0),
    note              text CHECK (length(note) <= 200),
    PRIMARY KEY (order_id, line_no)
);

-- The order's timeline: when each status was reached, at which version.
CREATE TABLE orders.order_status_history (
    order_id    uuid NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
    version     bigint NOT NULL,
    status      text NOT NULL,
    reached_at  timestamptz NOT NULL,
    changed_by  text NOT NULL,
    PRIMARY KEY (order_id, version)
);

-- Written in the same transaction as the change it describes; the relay publishes rows in id
-- order and stamps published_at only after the broker acknowledged them.
CREATE TABLE orders.outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    order_id      uuid NOT NULL,
    event_type    text NOT NULL,
    payload       bytea NOT NULL,
    traceparent   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON orders.outbox (id) WHERE published_at IS NULL;

-- Wake the relay when a transaction that wrote outbox rows commits (NOTIFY is delivered on
-- commit, and several in one transaction fold into one).
CREATE FUNCTION orders.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orders_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON orders.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION orders.notify_outbox();

-- createOrder's idempotency keys: per customer, kept 24 hours.
CREATE TABLE orders.idempotency_keys (
    customer_id       uuid NOT NULL,
    key               text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    cart_fingerprint  text NOT NULL,
    -- Deferred: the key is claimed first, in the transaction that then writes the order.
    order_id          uuid NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE
                      DEFERRABLE INITIALLY DEFERRED,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, key)
);
CREATE INDEX idempotency_keys_age ON orders.idempotency_keys (created_at);
