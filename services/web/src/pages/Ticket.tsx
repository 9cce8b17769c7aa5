import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { appConfig, session } from '../api';

interface Ticket {
  orderId: string; status: string; version: number; placedAt: string; totalCents: number;
  items: { name: string; station: string; quantity: number; note: string | null }[];
  timeline: { status: string; at: string }[];
}

export function Ticket() {
  const { orderId } = useParams();
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
      <h1>Ticket #{ticket.orderId.slice(-6)}</h1>
      <p className="big-status">Status: <strong>{ticket.status}</strong></p>
      <ul className="cart">{ticket.items.map((i, n) => <li key={n}><span className="name">{i.quantity}× {i.name}</span> <small>{i.station}</small>{i.note && <em> — {i.note}</em>}</li>)}</ul>
      <ol className="timeline">{ticket.timeline.map((t) => <li key={t.status} className="done">{t.status.toLowerCase()} <time>{new Date(t.at).toLocaleTimeString()}</time></li>)}</ol>
      <Link to="/kitchen">Back to the board</Link>
    </section>
  );
}
