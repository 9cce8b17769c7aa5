import { useEffect, useState } from 'react';
import { useParams } from 'react-router-dom';
import { friendly, gql, live, money } from '../api';

interface Detail {
  id: string; status: string; version: number; totalCents: number;
  items: { name: string; quantity: number; note: string | null; unitPriceCents: number }[];
  timeline: { status: string; at: string }[];
}
const FIELDS = 'id status version totalCents items { name quantity note unitPriceCents } timeline { status at }';
const STEPS = ['PLACED', 'ACCEPTED', 'PREPARING', 'READY', 'COMPLETED'];

export function OrderDetail() {
  const { id } = useParams();
  const [order, setOrder] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    gql<{ order: Detail }>(`query($id: ID!) { order(id: $id) { ${FIELDS} } }`, { id })
      .then((d) => setOrder(d.order))
      .catch((e) => setError(friendly(e)));
    // Live: every change arrives without a reload; only newer versions replace what we show.
    return live().subscribe<{ orderStatusChanged: { order: Detail } }>(
      { query: `subscription($id: ID) { orderStatusChanged(orderId: $id) { order { ${FIELDS} } } }`, variables: { id } },
      {
        next: ({ data }) => {
          const next = data?.orderStatusChanged.order;
          if (next) setOrder((current) => (!current || next.version > current.version ? next : current));
        },
        error: () => setError('Live updates paused; reconnecting…'),
        complete: () => undefined,
      },
    );
  }, [id]);

  const cancel = async () => {
    try {
      const d = await gql<{ cancelOrder: Detail }>(`mutation($id: ID!) { cancelOrder(orderId: $id) { ${FIELDS} } }`, { id });
      setOrder(d.cancelOrder);
    } catch (e) {
      setError(friendly(e));
    }
  };

  if (!order) return <section>{error ? <p role="alert" className="error">{error}</p> : <p>Loading your order…</p>}</section>;
  const reached = new Map(order.timeline.map((t) => [t.status, t.at]));
  return (
    <section className="narrow">
      <h1>Your order</h1>
      <p className="big-status" aria-live="polite">Status: <strong data-testid="order-status">{order.status}</strong></p>
      <ol className="timeline">
        {(order.status === 'CANCELLED' ? ['PLACED', 'CANCELLED'] : STEPS).map((step) => (
          <li key={step} className={reached.has(step) ? 'done' : ''}>
            {step.toLowerCase()} {reached.has(step) && <time>{new Date(reached.get(step)!).toLocaleTimeString()}</time>}
          </li>
        ))}
      </ol>
      <ul className="cart">
        {order.items.map((i, n) => <li key={n}><span className="name">{i.quantity}× {i.name}</span>{i.note && <em> “{i.note}”</em>}<span className="price">{money(i.unitPriceCents * i.quantity)}</span></li>)}
      </ul>
      <p className="total">Total <strong>{money(order.totalCents)}</strong></p>
      {error && <p role="alert" className="error">{error}</p>}
      {(order.status === 'PLACED' || order.status === 'ACCEPTED') && <button type="button" onClick={cancel}>Cancel order</button>}
    </section>
  );
}
