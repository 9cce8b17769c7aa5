import { useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { friendly, gql, money, session } from '../api';
import { cart, saveCart, total, type CartLine } from '../cart';

export function Checkout() {
  const navigate = useNavigate();
  const [lines, setLines] = useState<CartLine[]>(cart());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per cart: a double click, or a retry after a network drop, makes one order.
  const key = useRef(crypto.randomUUID());

  const update = (next: CartLine[]) => {
    saveCart(next);
    setLines(cart());
    key.current = crypto.randomUUID();
  };

  const place = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const data = await gql<{ createOrder: { id: string } }>(
        'mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }',
        { i: { idempotencyKey: key.current, items: lines.map((l) => ({ menuItemId: l.menuItemId, quantity: l.quantity, note: l.note || null })) } },
      );
      saveCart([]);
      navigate(`/orders/${data.createOrder.id}`);
    } catch (e) {
      setError(friendly(e));
      setBusy(false);
    }
  };

  if (!lines.length) return <section><h1>Your cart</h1><p>Your cart is empty. <Link to="/">See the menu</Link></p></section>;
  const signedIn = session()?.user.role === 'CUSTOMER';
  return (
    <section className="narrow">
      <h1>Your cart</h1>
      <ul className="cart">
        {lines.map((line, i) => (
          <li key={line.menuItemId}>
            <span className="name">{line.name}</span>
            <label className="qty">Quantity
              <input type="number" min={0} max={50} value={line.quantity}
                onChange={(e) => update(lines.map((l, j) => (j === i ? { ...l, quantity: Math.max(0, Math.min(50, Number(e.target.value))) } : l)))} />
            </label>
            <label className="note">Note for the kitchen
              <input maxLength={200} value={line.note ?? ''} placeholder="e.g. no onions"
                onChange={(e) => update(lines.map((l, j) => (j === i ? { ...l, note: e.target.value } : l)))} />
            </label>
            <span className="price">{money(line.priceCents * line.quantity)}</span>
          </li>
        ))}
      </ul>
      <p className="total">Total <strong>{money(total(lines))}</strong></p>
      {error && <p role="alert" className="error">{error}</p>}
      {signedIn ? (
        <button type="button" className="primary" disabled={busy} onClick={place}>{busy ? 'Placing your order…' : 'Place order'}</button>
      ) : (
        <p><Link to="/login">Sign in</Link> or <Link to="/signup">create an account</Link> to order.</p>
      )}
    </section>
  );
}
