import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { friendly, gql, money } from '../api';

interface Row { id: string; status: string; totalCents: number; createdAt: string; items: { name: string; quantity: number }[] }
const STATUSES = ['ALL', 'PLACED', 'ACCEPTED', 'PREPARING', 'READY', 'COMPLETED', 'CANCELLED'];

export function Orders() {
  const [status, setStatus] = useState('ALL');
  const [orders, setOrders] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    gql<{ orders: { edges: { node: Row }[] } }>(
      `query($s: OrderStatus) { orders(first: 50, status: $s) { edges { node { id status totalCents createdAt items { name quantity } } } } }`,
      { s: status === 'ALL' ? null : status },
    )
      .then((d) => setOrders(d.orders.edges.map((e) => e.node)))
      .catch((e) => setError(friendly(e)));
  }, [status]);
  return (
    <section>
      <h1>My orders</h1>
      <label>Show <select value={status} onChange={(e) => setStatus(e.target.value)}>
        {STATUSES.map((s) => <option key={s} value={s}>{s === 'ALL' ? 'all orders' : s.toLowerCase()}</option>)}
      </select></label>
      {error && <p role="alert" className="error">{error}</p>}
      {orders && !orders.length && <p>No orders yet.</p>}
      <ul className="orders">
        {orders?.map((o) => (
          <li key={o.id}>
            <Link to={`/orders/${o.id}`}>{new Date(o.createdAt).toLocaleString()}</Link>
            <span className={`status ${o.status}`}>{o.status}</span>
            <span>{o.items.map((i) => `${i.quantity}× ${i.name}`).join(', ')}</span>
            <span className="price">{money(o.totalCents)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
