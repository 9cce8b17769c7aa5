import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { clock, friendly, gql, money, onMenuChange, session } from '../api';
import { MAX_NOTE_CHARS, MAX_QUANTITY, cart, orderKey, orderPlaced, pendingOrderKey, saveCart, total, type CartLine } from '../cart';
import { ErrorBanner, useTitle } from '../ui';

/** A table number or a name to call, at most (the orders service's limit). */
const MAX_TABLE_CHARS = 24;
/** How often the cart asks again when it would be ready (the kitchen's queue moves). */
const ESTIMATE_EVERY_MS = 15_000;

/** What is wrong with a typed quantity; null when it is a quantity (or still being typed). */
function quantityProblem(text: string): string | null {
  if (text.trim() === '') return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) return 'Enter a whole number from 1 to 50, or remove the dish.';
  if (n > MAX_QUANTITY) return `At most ${MAX_QUANTITY} of one dish per order.`;
  return null;
}

function Line({ line, soldOut, draft, setDraft, change, remove }: {
  line: CartLine;
  soldOut: boolean;
  draft: string;
  setDraft: (text: string) => void;
  change: (next: CartLine) => void;
  remove: () => void;
}) {
  const [noteOpen, setNoteOpen] = useState(Boolean(line.note));
  const id = line.menuItemId;
  const problem = quantityProblem(draft);
  const note = line.note ?? '';
  const step = (by: number) => change({ ...line, quantity: Math.min(MAX_QUANTITY, Math.max(1, line.quantity + by)) });
  return (
    <li className={`line${soldOut ? ' unavailable' : ''}`} data-item={id} data-sold-out={soldOut}>
      <div className="line-head">
        <span className="name">{line.name}{soldOut && <span className="sold-out-badge"> Sold out</span>}</span>
        <span className="unit">{money(line.priceCents)} each</span>
        <span className="price" aria-label={`Line total ${money(line.priceCents * line.quantity)}`}>{money(line.priceCents * line.quantity)}</span>
      </div>
      <div className="line-controls">
        <div className="stepper">
          <button type="button" aria-label={`One fewer ${line.name}`} disabled={line.quantity <= 1} onClick={() => step(-1)}>−</button>
          <label className="visually-hidden" htmlFor={`qty-${id}`}>Quantity of {line.name}</label>
          <input id={`qty-${id}`} inputMode="numeric" className="qty" value={draft} aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `qty-problem-${id}` : undefined}
            onChange={(e) => {
              const text = e.target.value;
              setDraft(text);
              // Only a real quantity changes the cart: an empty box while typing deletes nothing.
              if (text.trim() !== '' && !quantityProblem(text)) change({ ...line, quantity: Number(text) });
            }}
            onBlur={() => { if (draft.trim() === '') setDraft(String(line.quantity)); }} />
          <button type="button" aria-label={`One more ${line.name}`} disabled={line.quantity >= MAX_QUANTITY} onClick={() => step(1)}>+</button>
        </div>
        <button type="button" className="link" onClick={() => setNoteOpen(!noteOpen)} aria-expanded={noteOpen} aria-controls={`note-${id}`}>
          {noteOpen ? 'Hide note' : note ? 'Edit note' : 'Add note'}
        </button>
        <button type="button" className="link danger" onClick={remove} aria-label={`Remove ${line.name}`}>Remove</button>
      </div>
      {problem && <p id={`qty-problem-${id}`} className="field-error" role="alert">{problem}</p>}
      {noteOpen && (
        <div className="note-box" id={`note-${id}`}>
          <label htmlFor={`note-input-${id}`}>Note for the kitchen</label>
          <textarea id={`note-input-${id}`} rows={2} maxLength={MAX_NOTE_CHARS} value={note} placeholder="e.g. no onions, nut allergy"
            aria-describedby={`note-count-${id}`} onChange={(e) => change({ ...line, note: e.target.value })} />
          <span id={`note-count-${id}`} className={`counter${note.length >= MAX_NOTE_CHARS - 20 ? ' near' : ''}`} aria-live="polite">
            {note.length}/{MAX_NOTE_CHARS} characters
          </span>
        </div>
      )}
      {!noteOpen && note && <p className="note-preview">Note: {note}</p>}
    </li>
  );
}

export function Checkout() {
  useTitle('Your cart');
  const navigate = useNavigate();
  const [lines, setLines] = useState<CartLine[]>(cart());
  // What each quantity box shows, which may be mid-edit ("" or "999") and so not in the cart.
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // How the order is served, and the table (or a name to call).
  const [orderType, setOrderType] = useState<'DINE_IN' | 'TAKEAWAY'>('DINE_IN');
  const [table, setTable] = useState('');
  // An attempt at this very cart was made before a reload: it may have gone through.
  const [resumed] = useState(() => pendingOrderKey(cart()) !== null);

  // Dishes of this cart the kitchen has 86ed: read once, then kept live.
  const [soldOut, setSoldOut] = useState<Set<string>>(new Set());
  useEffect(() => {
    gql<{ menuItems: { edges: { node: { id: string; available: boolean } }[] } }>('{ menuItems(first: 100) { edges { node { id available } } } }')
      .then((d) => setSoldOut(new Set(d.menuItems.edges.filter((e) => !e.node.available).map((e) => e.node.id))))
      .catch(() => undefined);
    return onMenuChange((changed) => setSoldOut((current) => {
      const next = new Set(current);
      if (changed.available) next.delete(changed.id);
      else next.add(changed.id);
      return next;
    }));
  }, []);

  // When this cart would be ready if ordered now, behind the kitchen's queue; asked again as
  // the cart changes and every ESTIMATE_EVERY_MS (the queue moves).
  const [estimate, setEstimate] = useState<string | null>(null);
  const cartKey = JSON.stringify(lines.map((l) => [l.menuItemId, l.quantity]));
  useEffect(() => {
    if (!lines.length) return;
    let stopped = false;
    const ask = () => gql<{ readyByEstimate: string }>('query($i: [OrderItemInput!]!) { readyByEstimate(items: $i) }',
      { i: lines.map((l) => ({ menuItemId: l.menuItemId, quantity: l.quantity })) })
      .then((d) => { if (!stopped) setEstimate(d.readyByEstimate); })
      .catch(() => { if (!stopped) setEstimate(null); });
    ask();
    const timer = setInterval(ask, ESTIMATE_EVERY_MS);
    return () => { stopped = true; clearInterval(timer); };
  }, [cartKey]);

  useEffect(() => {
    const update = () => setLines(cart());
    window.addEventListener('cart', update);
    return () => window.removeEventListener('cart', update);
  }, []);

  const save = (next: CartLine[]) => {
    saveCart(next);
    setLines(cart());
  };
  const change = (next: CartLine) => save(lines.map((l) => (l.menuItemId === next.menuItemId ? next : l)));
  const draftOf = (line: CartLine) => drafts[line.menuItemId] ?? String(line.quantity);
  const unavailable = lines.filter((l) => soldOut.has(l.menuItemId));
  const invalid = lines.some((l) => quantityProblem(draftOf(l)) !== null) || unavailable.length > 0;

  const place = async () => {
    if (busy || invalid) return;
    setBusy(true);
    setError(null);
    try {
      const data = await gql<{ createOrder: { id: string } }>(
        'mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }',
        { i: {
          idempotencyKey: orderKey(lines), orderType, table: table.trim() || null,
          items: lines.map((l) => ({ menuItemId: l.menuItemId, quantity: l.quantity, note: l.note?.trim() || null })),
        } },
      );
      orderPlaced();
      navigate(`/orders/${data.createOrder.id}`);
    } catch (e) {
      setError(friendly(e));
      setBusy(false);
    }
  };

  if (!lines.length) {
    return (
      <section className="narrow empty">
        <h1>Your cart</h1>
        <p>Your cart is empty.</p>
        <Link className="button primary" to="/">Browse the menu</Link>
      </section>
    );
  }
  const signedIn = session()?.user.role === 'CUSTOMER';
  return (
    <section className="narrow">
      <h1>Your cart</h1>
      <ul className="cart">
        {lines.map((line) => (
          <Line key={line.menuItemId} line={line} soldOut={soldOut.has(line.menuItemId)} draft={draftOf(line)}
            setDraft={(text) => setDrafts((d) => ({ ...d, [line.menuItemId]: text }))}
            change={(next) => {
              change(next);
              setDrafts((d) => ({ ...d, [line.menuItemId]: String(next.quantity) }));
            }}
            remove={() => save(lines.filter((l) => l.menuItemId !== line.menuItemId))} />
        ))}
      </ul>
      <p className="total">Total <strong>{money(total(lines))}</strong></p>
      <fieldset className="service-choice">
        <legend>How would you like it?</legend>
        <label><input type="radio" name="order-type" value="DINE_IN" checked={orderType === 'DINE_IN'} onChange={() => setOrderType('DINE_IN')} /> Eat here</label>
        <label><input type="radio" name="order-type" value="TAKEAWAY" checked={orderType === 'TAKEAWAY'} onChange={() => setOrderType('TAKEAWAY')} /> Take away</label>
        <label htmlFor="table">{orderType === 'DINE_IN' ? 'Table number' : 'Name to call'} <span className="hint">(optional)</span></label>
        <input id="table" value={table} maxLength={MAX_TABLE_CHARS} onChange={(e) => setTable(e.target.value)}
          placeholder={orderType === 'DINE_IN' ? 'e.g. 12' : 'e.g. Sam'} />
      </fieldset>
      {estimate && (
        <p className="ready-by" data-testid="estimate" data-ready-by={estimate}>
          Order now and it will be ready by about <strong>{clock(estimate)}</strong>
        </p>
      )}
      {resumed && !busy && <p className="hint">Your last try may have gone through. Placing the order again will not order twice.</p>}
      {unavailable.length > 0 && (
        <p role="alert" className="field-error" data-testid="sold-out">
          Sold out now: {unavailable.map((l) => l.name).join(', ')}. Remove {unavailable.length === 1 ? 'it' : 'them'} to order.
        </p>
      )}
      <ErrorBanner message={error} />
      {signedIn ? (
        <button type="button" className="primary" disabled={busy || invalid} onClick={place}>{busy ? 'Placing your order…' : error ? 'Try again' : 'Place order'}</button>
      ) : (
        <p><Link to="/login?next=/order/create">Sign in</Link> or <Link to="/signup?next=/order/create">create an account</Link> to order.</p>
      )}
    </section>
  );
}
