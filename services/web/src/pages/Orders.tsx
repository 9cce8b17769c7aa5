import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { friendly, gql, live, money, session } from '../api';
import { ErrorBanner, STATUS_LABEL, orderLabel, useTitle } from '../ui';

interface Row { id: string; number: number; status: string; version: number; totalCents: number; createdAt: string; items: { name: string; quantity: number }[] }
const STATUSES = ['ALL', 'PLACED', 'ACCEPTED', 'PREPARING', 'READY', 'COMPLETED', 'CANCELLED'];
const FIELDS = 'id number status version totalCents createdAt items { name quantity }';
/** Orders followed live at once (the gateway allows 10 subscriptions per socket). */
const LIVE_ORDERS = 8;
const open = (status: string) => status !== 'COMPLETED' && status !== 'CANCELLED';

export function Orders() {
  useTitle('My orders');
  const signedIn = session()?.user.role === 'CUSTOMER';
  const [status, setStatus] = useState('ALL');
  const [orders, setOrders] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!signedIn) return;
    gql<{ orders: { edges: { node: Row }[] } }>(
      `query($s: OrderStatus) { orders(first: 50, status: $s) { edges { node { ${FIELDS} } } } }`,
      { s: status === 'ALL' ? null : status },
    )
      .then((d) => {
        setOrders(d.orders.edges.map((e) => e.node));
        setError(null);
      })
      .catch((e) => setError(friendly(e)));
  }, [status, attempt, signedIn]);

  // The open orders on the list follow their changes live, without a reload.
  const watched = (orders ?? []).filter((o) => open(o.status)).slice(0, LIVE_ORDERS).map((o) => o.id).join(',');
  useEffect(() => {
    if (!watched) return;
    const stops = watched.split(',').map((id) =>
      live().subscribe<{ orderStatusChanged: { order: Row } }>(
        { query: `subscription($id: ID) { orderStatusChanged(orderId: $id) { order { ${FIELDS} } } }`, variables: { id } },
        {
          next: ({ data }) => {
            const next = data?.orderStatusChanged.order;
            if (next) setOrders((rows) => rows?.map((r) => (r.id === next.id && next.version > r.version ? next : r)) ?? rows);
          },
          error: () => undefined,
          complete: () => undefined,
        },
      ),
    );
    return () => stops.forEach((stop) => stop());
  }, [watched]);

  if (!signedIn) {
    return (
      <section className="narrow empty">
        <h1>My orders</h1>
        <p>Sign in to see your orders.</p>
        <Link className="button primary" to="/login?next=/orders">Sign in</Link>
      </section>
    );
  }
  return (
    <section>
      <h1>My orders</h1>
      <label className="inline">Show <select value={status} onChange={(e) => setStatus(e.target.value)}>
        {STATUSES.map((s) => <option key={s} value={s}>{s === 'ALL' ? 'all orders' : STATUS_LABEL[s].toLowerCase()}</option>)}
      </select></label>
      <ErrorBanner message={error} retry={() => setAttempt((n) => n + 1)} />
      {orders && !orders.length && (
        <div className="empty">
          <p>{status === 'ALL' ? 'No orders yet.' : 'No orders with that status.'}</p>
          <Link className="button primary" to="/">Browse the menu</Link>
        </div>
      )}
      <ul className="orders">
        {orders?.map((o) => (
          <li key={o.id} data-order={o.id}>
            <Link to={`/orders/${o.id}`}><strong>{orderLabel(o.number, o.id)}</strong> {new Date(o.createdAt).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}</Link>
            <span className={`badge status-${o.status.toLowerCase()}`} data-status={o.status}>{STATUS_LABEL[o.status] ?? o.status}</span>
            <span className="items">{o.items.map((i) => `${i.quantity}× ${i.name}`).join(', ')}</span>
            <span className="price">{money(o.totalCents)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
