-- The database work one order cannot avoid in this design, for pgbench: the order, its lines and
-- its outbox row in one transaction; the outbox row marked published; the ticket and its tablet
-- change with the next sequence number. (Tables in a scratch schema of their own.)
\set customer random(1, 1000000)
BEGIN;
INSERT INTO bench.orders (id, customer_id, status, version, total_cents, created_at, updated_at)
  VALUES (gen_random_uuid(), gen_random_uuid(), 'PLACED', 1, 1650, now(), now()) RETURNING id \gset order_
INSERT INTO bench.order_items (order_id, line_no, menu_item_id, name, station, quantity, unit_price_cents)
  VALUES (':order_id', 1, gen_random_uuid(), 'Garlic Bread', 'grill', 1, 550),
         (':order_id', 2, gen_random_uuid(), 'Lemonade', 'bar', 1, 400),
         (':order_id', 3, gen_random_uuid(), 'French Fries', 'fry', 1, 700);
INSERT INTO bench.outbox (event_id, order_id, event_type, payload) VALUES (gen_random_uuid(), ':order_id', 'order.created', '\x0a01');
COMMIT;
UPDATE bench.outbox SET published_at = now() WHERE order_id = ':order_id';
BEGIN;
INSERT INTO bench.tickets (order_id, status, order_version, items) VALUES (':order_id', 'PLACED', 1, '[]');
UPDATE bench.tablet_sequence SET last_seq = last_seq + 1 RETURNING last_seq \gset
INSERT INTO bench.tablet_changes (seq, order_id, ticket) VALUES (:last_seq, ':order_id', '{}');
COMMIT;
