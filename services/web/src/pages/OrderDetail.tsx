import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { friendly, gql, live, money } from '../api';
import { ErrorBanner, STATUS_SENTENCE, Timeline, orderLabel, useTitle } from '../ui';

interface Detail {
  id: string; number: number; status: string; version: number; totalCents: number;
  items: { name: string; quantity: number; note: string | null; unitPriceCents: number }[];
  timeline: { status: string; at: string }[];
  orderType: string | null; table: string | null; cancelReason: string | null;
}
const FIELDS = 'id number status version totalCents items { name quantity note unitPriceCents } timeline { status at } orderType table cancelReason';
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
  const show = useCallback((next: Detail) => {
    setOrder((current) => (!current || next.version > current.version ? next : current));
    setError(null);
  }, []);

  useEffect(() => {
    gql<{ order: Detail }>(`query($id: ID!) { order(id: $id) { ${FIELDS} } }`, { id })
      .then((d) => show(d.order))
      .catch((e) => setError(friendly(e)));
    // Live: every change arrives without a reload; only newer versions replace what we show.
    return live().subscribe<{ orderStatusChanged: { order: Detail } }>(
      { query: `subscription($id: ID) { orderStatusChanged(orderId: $id) { order { ${FIELDS} } } }`, variables: { id } },
      {
        next: ({ data }) => {
          const next = data?.orderStatusChanged.order;
          if (next) show(next);
        },
        error: () => setError('Live updates paused; reconnecting…'),
        complete: () => undefined,
      },
    );
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
