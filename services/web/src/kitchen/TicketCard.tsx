// One ticket on the board: its number, age and details, its lines (a station's tablet shows
// only its own), each station's progress, and the buttons the view gives it.
import type { MouseEvent, ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { orderLabel } from '../ui';
import { useAgeMinutes } from './clock';
import { isRemake, progress, type Ticket } from './types';

export type Tap = (event: MouseEvent) => void;

export function TicketCard({ ticket, busy, selected, keyNumber, actions }: {
  ticket: Ticket; busy: boolean; selected: boolean;
  /** The digit that selects it from the keyboard, if any. */
  keyNumber?: number;
  actions: ReactNode;
}) {
  const t = ticket;
  const minutes = useAgeMinutes(t.placedAt);
  const classes = ['ticket', `age-${minutes >= 15 ? 'late' : minutes >= 8 ? 'warn' : 'ok'}`];
  if (t.rush) classes.push('rush');
  if (isRemake(t)) classes.push('remake');
  if (selected) classes.push('selected');
  return (
    <article aria-busy={busy} className={classes.join(' ')} data-order={t.orderId} data-rush={t.rush ? 'true' : undefined}>
      <header>
        {keyNumber !== undefined && <kbd className="ticket-key">{keyNumber}</kbd>}
        <Link to={`/ticket/${t.orderId}`} className="ticket-number">{orderLabel(t.number, t.orderId)}</Link>
        {t.rush && <span className="rush-badge">Rush</span>}
        {isRemake(t) && <span className="remake-badge">Remake</span>}
        <span className="age">{minutes < 1 ? 'new' : `${minutes} min`}</span>
      </header>
      {(t.orderType === 'DINE_IN' || t.orderType === 'TAKEAWAY' || t.table) && (
        <p className="ticket-service">
          {t.orderType === 'DINE_IN' ? 'Dine in' : t.orderType === 'TAKEAWAY' ? 'Takeaway' : ''}
          {t.table && <strong> · {t.table}</strong>}
        </p>
      )}
      <ul>
        {t.items.map((i, n) => (
          <li key={n}>
            <strong>{i.quantity}×</strong> {i.name} <span className="station">{i.station}</span>
            {i.note && <p className="ticket-note">{i.note}</p>}
          </li>
        ))}
      </ul>
      {progress(t).length > 0 && (
        <p className="stations" aria-label="Stations">
          {progress(t).map((p) => (
            <span key={p.station} className={`station-progress ${p.doneAt ? 'done' : 'waiting'}`} data-station={p.station}>
              {p.station} {p.doneAt ? '✓' : '…'}
            </span>
          ))}
        </p>
      )}
      <div className="actions">{actions}</div>
    </article>
  );
}
