import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { appConfig, session } from '../api';

interface Ticket {
  orderId: string; status: string; version: number; placedAt: string;
  items: { name: string; station: string; quantity: number; note: string | null }[];
}
const COLUMNS = ['PLACED', 'ACCEPTED', 'PREPARING', 'READY'];
const NEXT: Record<string, string> = { PLACED: 'Accept', ACCEPTED: 'Start', PREPARING: 'Ready', READY: 'Done' };
/** Wait before reconnecting after a drop; doubled up to 5 s. */
const RECONNECT_MS = 500;

function beep() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
  } catch {
    // No sound is better than no board.
  }
}

export function Kitchen() {
  const user = session()?.user;
  const [tickets, setTickets] = useState<Map<string, Ticket>>(new Map());
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [message, setMessage] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const socket = useRef<WebSocket | null>(null);

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  useEffect(() => {
    if (user?.role !== 'KITCHEN_STAFF') return;
    let lastSeq: number | undefined;
    let delay = RECONNECT_MS;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const connect = async () => {
      const { kitchenUrl } = await appConfig();
      const ws = new WebSocket(kitchenUrl.replace(/^http/, 'ws') + '/ws');
      socket.current = ws;
      ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: session()?.token, ...(lastSeq !== undefined ? { lastSeq } : {}) }));
      ws.onmessage = (event) => {
        const m = JSON.parse(event.data);
        if (m.type === 'snapshot') {
          setTickets(new Map(m.tickets.map((t: Ticket) => [t.orderId, t])));
          lastSeq = m.seq;
          setState('live');
          delay = RECONNECT_MS;
        } else if (m.type === 'ticket') {
          lastSeq = m.seq;
          setState('live');
          setTickets((current) => {
            const next = new Map(current);
            if (!current.has(m.orderId) && m.ticket.status === 'PLACED') beep();
            if (m.ticket.status === 'COMPLETED' || m.ticket.status === 'CANCELLED') next.delete(m.orderId);
            else next.set(m.orderId, m.ticket);
            return next;
          });
        } else if (m.type === 'error') {
          setMessage(m.message);
        } else if (m.type === 'resync') {
          setMessage('Catching up…');
        }
      };
      ws.onclose = () => {
        if (stopped) return;
        setState('reconnecting');
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 5000);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket.current?.close();
    };
  }, [user?.role]);

  if (user?.role !== 'KITCHEN_STAFF') {
    return <section><h1>Kitchen</h1><p role="alert" className="error">The kitchen board is for kitchen staff. <Link to="/login">Sign in</Link> with a kitchen account.</p></section>;
  }
  const send = (type: 'bump' | 'recall', orderId: string) => {
    setMessage(null);
    socket.current?.send(JSON.stringify({ type, orderId }));
  };
  const byColumn = (status: string) => [...tickets.values()].filter((t) => t.status === status).sort((a, b) => a.placedAt.localeCompare(b.placedAt));
  return (
    <section className="kitchen">
      <h1>Kitchen {state !== 'live' && <span className="reconnecting" role="status">{state === 'connecting' ? 'connecting…' : 'reconnecting…'}</span>}</h1>
      {message && <p role="alert" className="error">{message}</p>}
      <div className="board">
        {COLUMNS.map((column) => (
          <div key={column} className="column" aria-label={column}>
            <h2>{column.toLowerCase()} ({byColumn(column).length})</h2>
            {byColumn(column).map((t) => {
              const minutes = Math.floor((now - Date.parse(t.placedAt)) / 60000);
              return (
                <article key={t.orderId} className={`ticket age-${minutes >= 15 ? 'late' : minutes >= 8 ? 'warn' : 'ok'}`} data-order={t.orderId}>
                  <header><Link to={`/ticket/${t.orderId}`}>#{t.orderId.slice(-6)}</Link> <span className="age">{minutes} min</span></header>
                  <ul>{t.items.map((i, n) => <li key={n}><strong>{i.quantity}×</strong> {i.name} <small>{i.station}</small>{i.note && <em> — {i.note}</em>}</li>)}</ul>
                  <div className="actions">
                    {column === 'READY' && <button type="button" className="secondary" onClick={() => send('recall', t.orderId)}>Recall</button>}
                    <button type="button" className="bump" onClick={() => send('bump', t.orderId)}>{NEXT[column]}</button>
                  </div>
                </article>
              );
            })}
          </div>
        ))}
      </div>
    </section>
  );
}
