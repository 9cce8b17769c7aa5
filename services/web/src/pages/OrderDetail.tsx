import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { clock, friendly, gql, live, money } from '../api';
import { ErrorBanner, STATUS_SENTENCE, Timeline, orderLabel, useTitle } from '../ui';

interface Detail {
  id: string; number: number; status: string; version: number; totalCents: number;
  readyBy: string | null; promiseRevision: number;
  items: { name: string; quantity: number; note: string | null; unitPriceCents: number }[];
  timeline: { status: string; at: string }[];
  orderType: string | null; table: string | null; cancelReason: string | null;
}
const FIELDS = 'id number status version totalCents readyBy promiseRevision items { name quantity note unitPriceCents } timeline { status at } orderType table cancelReason';
/** Wait before subscribing again after the subscription ended or failed; doubled up to 5 s. */
const RESUBSCRIBE_MS = 500;
const finished = (status: string) => status === 'COMPLETED' || status === 'CANCELLED';
/** Of two states of the order, the newer: by version, then by the kitchen's promise revision
 * (a moved ready-by time keeps the version). */
const newer = (next: Detail, current: Detail) =>
  next.version > current.version || (next.version === current.version && next.promiseRevision > current.promiseRevision);
/** A cancellation's reason, at most (the orders service's limit). */
const MAX_REASON_CHARS = 200;

export function OrderDetail() {
  useTitle('Your order');
  const { id } = useParams();
  const [order, setOrder] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('');
  const [attempt, setAttempt] = useState(0);
  // Whether live updates flow: a dropped socket or an ended subscription is `reconnecting`
  // until the page has subscribed again and reloaded the order (what changed meanwhile shows).
  const [link, setLink] = useState<'live' | 'reconnecting'>('live');
  const done = useRef(false);
  const show = useCallback((next: Detail) => {
    if (finished(next.status)) done.current = true;
    setOrder((current) => (!current || newer(next, current) ? next : current));
    setError(null);
  }, []);

  useEffect(() => {
    let stopped = false;
    let dropped = false;
    let delay = RESUBSCRIBE_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unsubscribe = () => {};
    const load = () => gql<{ order: Detail }>(`query($id: ID!) { order(id: $id) { ${FIELDS} } }`, { id })
      .then((d) => { if (!stopped) show(d.order); })
      .catch((e) => { if (!stopped) setError(friendly(e)); });
    // Live: every change arrives without a reload; only newer versions replace what we show.
    const subscribe = () => {
      unsubscribe = live().subscribe<{ orderUpdated: Detail }>(
        { query: `subscription($id: ID!) { orderUpdated(orderId: $id) { ${FIELDS} } }`, variables: { id } },
        {
          next: ({ data }) => {
            const next = data?.orderUpdated;
            if (next) show(next);
          },
          error: () => again(),
          // The gateway ends an order's subscription after its last event; any other end
          // (a backend restart, falling behind) means subscribing again.
          complete: () => again(),
        },
      );
    };
    const again = () => {
      if (stopped || done.current) return;
      setLink('reconnecting');
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (stopped) return;
        subscribe();
        load().then(() => { if (!stopped && !dropped) setLink('live'); });
      }, delay);
      delay = Math.min(delay * 2, 5_000);
    };
    // The socket itself dropping: graphql-ws reconnects and subscribes again by itself, but what
    // happened while it was away is lost, so the page reloads the order once it is back.
    const client = live();
    const offClosed = client.on('closed', () => {
      if (stopped || done.current) return;
      dropped = true;
      setLink('reconnecting');
    });
    const offConnected = client.on('connected', () => {
      if (stopped || !dropped) return;
      dropped = false;
      delay = RESUBSCRIBE_MS;
      load().then(() => { if (!stopped) setLink('live'); });
    });
    load();
    subscribe();
    return () => {
      stopped = true;
      clearTimeout(timer);
      offClosed();
      offConnected();
      unsubscribe();
    };
  }, [id, attempt, show]);

  const cancel = async () => {
    setConfirming(false);
    try {
      const d = await gql<{ cancelOrder: Detail }>(
        `mutation($id: ID!, $reason: String) { cancelOrder(orderId: $id, reason: $reason) { ${FIELDS} } }`,
        { id, reason: reason.trim() || null },
      );
      show(d.cancelOrder);
    } catch (e) {
      setError(friendly(e));
    }
  };
  const retry = () => setAttempt((n) => n + 1);

  if (!order) return <section>{error ? <ErrorBanner message={error} retry={retry} /> : <p>Loading your order…</p>}</section>;
  const cancellable = order.status === 'PLACED' || order.status === 'ACCEPTED';
  return (
    <section className="narrow">
      <h1>Your order <span className="order-number" data-testid="order-number">{orderLabel(order.number, order.id)}</span></h1>
      <p className={`big-status status-${order.status.toLowerCase()}`} aria-live="polite" data-testid="order-status" data-status={order.status}>
        {STATUS_SENTENCE[order.status] ?? order.status}
      </p>
      {order.status === 'CANCELLED' && order.cancelReason && (
        <p className="cancel-reason" data-testid="cancel-reason">Reason: {order.cancelReason}</p>
      )}
      {(order.orderType || order.table) && (
        <p className="order-service" data-testid="order-service">
          {order.orderType === 'DINE_IN' ? 'Eat here' : order.orderType === 'TAKEAWAY' ? 'Take away' : ''}
          {order.table && ` · ${order.orderType === 'TAKEAWAY' ? 'for' : 'table'} ${order.table}`}
        </p>
      )}
      {link === 'reconnecting' && !finished(order.status) && (
        <p role="status" className="reconnecting" data-testid="reconnecting">Reconnecting… this page catches up as soon as it is back.</p>
      )}
      {order.readyBy && ['PLACED', 'ACCEPTED', 'PREPARING'].includes(order.status) && (
        <p className="ready-by" data-testid="ready-by" data-ready-by={order.readyBy}>
          Ready by <strong>{clock(order.readyBy)}</strong>
        </p>
      )}
      <Timeline status={order.status} timeline={order.timeline} />
      <ul className="cart">
        {order.items.map((i, n) => (
          <li key={n} className="line">
            <div className="line-head">
              <span className="name">{i.quantity}× {i.name}</span>
              <span className="unit">{money(i.unitPriceCents)} each</span>
              <span className="price">{money(i.unitPriceCents * i.quantity)}</span>
            </div>
            {i.note && <p className="note-preview">Note: {i.note}</p>}
          </li>
        ))}
      </ul>
      <p className="total">Total <strong>{money(order.totalCents)}</strong></p>
      <ErrorBanner message={error} retry={retry} />
      {cancellable && !confirming && <button type="button" className="danger" onClick={() => setConfirming(true)}>Cancel order</button>}
      {cancellable && confirming && (
        <div className="confirm" role="group" aria-label="Cancel this order?">
          <p>Cancel this order? The kitchen will not make it.</p>
          <label htmlFor="cancel-reason">Why? <span className="hint">(optional)</span></label>
          <input id="cancel-reason" value={reason} maxLength={MAX_REASON_CHARS} onChange={(e) => setReason(e.target.value)} placeholder="e.g. ordered by mistake" />
          <button type="button" className="danger" onClick={cancel}>Yes, cancel it</button>
          <button type="button" onClick={() => setConfirming(false)}>Keep my order</button>
        </div>
      )}
      {(order.status === 'COMPLETED' || order.status === 'CANCELLED') && <p><Link to="/">Order something else</Link></p>}
      <p><Link to="/orders">All my orders</Link></p>
    </section>
  );
}
