import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { appConfig, session } from '../api';
import { STATUS_LABEL, Timeline, orderLabel, useTitle } from '../ui';

interface Ticket {
  orderId: string; number?: number; status: string; version: number; placedAt: string; totalCents: number;
  items: { name: string; station: string; quantity: number; note: string | null }[];
  timeline: { status: string; at: string }[];
}

export function Ticket() {
  const { orderId } = useParams();
  useTitle(`Ticket #${orderId?.slice(-6) ?? ''}`);
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const token = session()?.token;
    appConfig()
      .then(({ kitchenUrl }) => fetch(`${kitchenUrl}/ticket/${orderId}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }))
      .then(async (r) => {
        const body = await r.json();
        if (!r.ok) throw new Error(r.status === 401 || r.status === 403 ? 'Tickets are for kitchen staff.' : body.error?.message ?? 'No such ticket.');
        setTicket(body);
      })
      .catch((e) => setError(e instanceof Error ? e.message : 'We could not reach the kitchen.'));
  }, [orderId]);
  if (error) return <section><h1>Ticket</h1><p role="alert" className="error">{error}</p><Link to="/kitchen">Back to the board</Link></section>;
  if (!ticket) return <section><p>Loading the ticket…</p></section>;
  return (
    <section className="narrow">
      <h1>Ticket {orderLabel(ticket.number, ticket.orderId)}</h1>
      <p className="big-status" data-status={ticket.status}>{STATUS_LABEL[ticket.status] ?? ticket.status}</p>
      <Timeline status={ticket.status} timeline={ticket.timeline} />
      <ul className="cart">{ticket.items.map((i, n) => <li key={n} className="line"><div className="line-head"><span className="name">{i.quantity}× {i.name}</span> <span className="station">{i.station}</span></div>{i.note && <p className="ticket-note">{i.note}</p>}</li>)}</ul>
      <Link to="/kitchen">Back to the board</Link>
    </section>
  );
}
