// The expo's last handed-over tickets, newest first, each with a recall: a dish that comes back
// (cold, wrong, dropped) is made again. The order stays finished for the customer; the ticket
// comes back on every board as a remake until the expo hands it over again.
import { orderLabel } from '../ui';
import type { Ticket } from './types';

export function HandedOver({ tickets, recall }: { tickets: Ticket[]; recall: (t: Ticket) => void }) {
  if (!tickets.length) return null;
  return (
    <section className="handed-over" aria-label="Handed over">
      <h2>Handed over</h2>
      <ul>
        {tickets.map((t) => (
          <li key={t.orderId} data-order={t.orderId}>
            <span className="ticket-number">{orderLabel(t.number, t.orderId)}</span>
            <button type="button" className="secondary" aria-label={`Recall ${orderLabel(t.number, t.orderId)} to make it again`}
              onClick={() => recall(t)}>Recall</button>
          </li>
        ))}
      </ul>
    </section>
  );
}
