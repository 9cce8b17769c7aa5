// Cancelled and rejected orders on the board: a void every cook sees, with its reason, until
// one of them clears it; and the form in which the kitchen says why it rejects an order.
import { useState, type FormEvent } from 'react';
import { orderLabel } from '../ui';
import type { Ticket } from './types';

/** A rejection's reason, at most (the kitchen's and the orders service's limit). */
const MAX_REASON_CHARS = 200;

export function VoidStrip({ voids, clear }: { voids: Ticket[]; clear: (orderId: string) => void }) {
  if (!voids.length) return null;
  return (
    <section className="voids" aria-label="Voided orders">
      {voids.map((t) => (
        <article key={t.orderId} className="void" data-order={t.orderId} role="alert">
          <strong className="void-word">Void</strong> <span className="ticket-number">{orderLabel(t.number, t.orderId)}</span>
          <span className="void-items">{t.items.map((i) => `${i.quantity}× ${i.name}`).join(', ')}</span>
          <span className="void-reason">{t.cancelReason ? `Reason: ${t.cancelReason}` : 'No reason given'}</span>
          <button type="button" onClick={() => clear(t.orderId)}>Clear</button>
        </article>
      ))}
    </section>
  );
}

export function RejectForm({ ticket, reject, cancel }: { ticket: Ticket; reject: (reason: string) => void; cancel: () => void }) {
  const [reason, setReason] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (reason.trim()) reject(reason.trim());
  };
  const id = `reject-${ticket.orderId}`;
  return (
    <form className="reject-form" onSubmit={submit}>
      <label htmlFor={id}>Why reject {orderLabel(ticket.number, ticket.orderId)}?</label>
      <input id={id} value={reason} maxLength={MAX_REASON_CHARS} autoFocus onChange={(e) => setReason(e.target.value)}
        placeholder="e.g. out of burrata" />
      <div className="actions">
        <button type="button" className="secondary" onClick={cancel}>Keep it</button>
        <button type="submit" className="danger" disabled={!reason.trim()}>Reject</button>
      </div>
    </form>
  );
}
