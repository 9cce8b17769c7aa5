import { useEffect, useRef, useState, type MouseEvent } from 'react';
import { Link } from 'react-router-dom';
import { appConfig, friendly, gql, onMenuChange, session } from '../api';
import { orderLabel, useTitle } from '../ui';

interface Ticket {
  orderId: string; number?: number; status: string; version: number; placedAt: string;
  items: { name: string; station: string; quantity: number; note: string | null }[];
}
const COLUMNS = ['PLACED', 'ACCEPTED', 'PREPARING', 'READY'];
const HEADING: Record<string, string> = { PLACED: 'New', ACCEPTED: 'Accepted', PREPARING: 'Preparing', READY: 'Ready' };
const NEXT: Record<string, string> = { PLACED: 'Accept', ACCEPTED: 'Start', PREPARING: 'Ready', READY: 'Done' };
/** Wait before reconnecting after a drop; doubled up to 5 s. */
const RECONNECT_MS = 500;
/** How long a message to the cooks stays on the board. */
const MESSAGE_MS = 5_000;
/** How long a tapped ticket's buttons wait for the kitchen's answer before taking taps again. */
const PENDING_MS = 3_000;
/** How long a cook can undo a tap: the command is sent when this ends (or at the next tap). */
export const UNDO_MS = 4_000;
/** A tap this soon after a tap, at the same spot on another ticket, is the second half of a
 * double tap landing where the first ticket was (it moved away): ignored. */
const DOUBLE_TAP_MS = 400;
/** How far apart (px) two taps may be and still be one double tap. */
const DOUBLE_TAP_PX = 12;
/** Where a command takes a ticket (what the board shows while it waits). */
const AFTER: Record<string, Record<string, string>> = {
  bump: { PLACED: 'ACCEPTED', ACCEPTED: 'PREPARING', PREPARING: 'READY', READY: 'COMPLETED' },
  recall: { READY: 'PREPARING' },
};
const DONE_WORD: Record<string, string> = { ACCEPTED: 'Accepted', PREPARING: 'Started', READY: 'Ready', COMPLETED: 'Done' };

type Command = 'bump' | 'recall';
/** A tap not sent yet: it can be undone until it is. */
interface Held { orderId: string; type: Command; to: string; label: string }
/** A command sent, waiting for the kitchen's answer: the version it was sent at, where it goes. */
interface Pending { version: number; to: string }

/** What the kitchen's refusal means, in a cook's words (never the server's text). */
function plainWords(code: string): string {
  switch (code) {
    case 'CONFLICT': return 'That ticket had already moved on; the board shows where it is now.';
    case 'NOT_FOUND': return 'That ticket is no longer on the board.';
    case 'UNAUTHENTICATED': return 'Your sign-in has ended. Sign in again to use the board.';
    case 'FORBIDDEN': return 'This account cannot change tickets.';
    case 'UNAVAILABLE': return 'The kitchen could not save that just now. Tap again in a moment.';
    default: return 'That did not work. Tap again in a moment.';
  }
}

/** Whole minutes since `placedAt`, never negative (the tablet's clock may be behind). */
export function ageMinutes(now: number, placedAt: string): number {
  return Math.max(0, Math.floor((now - Date.parse(placedAt)) / 60000));
}

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

interface Dish { id: string; name: string; available: boolean }

/** The sold-out (86) control: the cooks mark a dish sold out and back; every open menu and
 * cart shows it at once, and orders for it are refused. */
function SoldOut() {
  const [open, setOpen] = useState(false);
  const [dishes, setDishes] = useState<Dish[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    gql<{ menuItems: { edges: { node: Dish }[] } }>('{ menuItems(first: 100) { edges { node { id name available } } } }')
      .then((d) => setDishes(d.menuItems.edges.map((e) => e.node)))
      .catch((e) => setProblem(friendly(e)));
    return onMenuChange((changed) => setDishes((current) => current?.map((d) => (d.id === changed.id ? { ...d, available: changed.available } : d)) ?? current));
  }, [open]);
  const toggle = async (dish: Dish) => {
    setProblem(null);
    try {
      const d = await gql<{ setMenuItemAvailable: Dish }>(
        'mutation($id: ID!, $a: Boolean!) { setMenuItemAvailable(id: $id, available: $a) { id name available } }',
        { id: dish.id, a: !dish.available },
      );
      setDishes((current) => current?.map((x) => (x.id === dish.id ? d.setMenuItemAvailable : x)) ?? current);
    } catch (e) {
      setProblem(friendly(e));
    }
  };
  const out = dishes?.filter((d) => !d.available).length ?? 0;
  return (
    <section className="eighty-six" aria-label="Sold out">
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? 'Hide sold out' : 'Sold out (86)'}{open && dishes ? ` · ${out} out` : ''}
      </button>
      {problem && <p role="alert" className="board-message">{problem}</p>}
      {open && dishes && (
        <ul>
          {dishes.map((d) => (
            <li key={d.id} data-dish={d.id} data-available={d.available}>
              <span className="dish-name">{d.name}</span>
              <button type="button" className={d.available ? 'secondary' : 'primary'} onClick={() => toggle(d)}
                aria-label={d.available ? `Mark ${d.name} sold out` : `${d.name} is back`}>
                {d.available ? '86 it' : 'Back on'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Kitchen() {
  useTitle('Kitchen board');
  const user = session()?.user;
  const [tickets, setTickets] = useState<Map<string, Ticket>>(new Map());
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [message, setMessage] = useState<{ text: string; at: number } | null>(null);
  // Tickets a cook just tapped, by the version they were tapped at: their buttons wait.
  // Commands sent and not answered yet (a ref: the socket's handler reads it), mirrored for
  // rendering; a command for a ticket that still waits for an answer is queued behind it.
  const pendingRef = useRef(new Map<string, Pending>());
  const queuedRef = useRef(new Map<string, Held>());
  const [pending, setPending] = useState<Map<string, Pending>>(new Map());
  const [held, setHeld] = useState<Held | null>(null);
  const heldRef = useRef<Held | null>(null);
  const lastTap = useRef<{ orderId: string; at: number; x: number; y: number } | null>(null);
  const [now, setNow] = useState(Date.now());
  const socket = useRef<WebSocket | null>(null);
  /** Sends a command for a ticket at `version`; it waits for the kitchen's answer. */
  const sendNow = (command: Held, version: number) => {
    pendingRef.current.set(command.orderId, { version, to: command.to });
    socket.current?.send(JSON.stringify({ type: command.type, orderId: command.orderId }));
  };

  // A held tap still counts when the board closes (declared before the socket's effect, so this
  // runs while the socket is still open).
  useEffect(() => {
    const flush = () => {
      const command = heldRef.current;
      heldRef.current = null;
      if (command && socket.current?.readyState === WebSocket.OPEN) socket.current.send(JSON.stringify({ type: command.type, orderId: command.orderId }));
    };
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('pagehide', flush);
      flush();
    };
  }, []);

  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => setMessage(null), MESSAGE_MS);
    return () => clearTimeout(timer);
  }, [message]);

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
          const waiting = pendingRef.current.get(m.orderId);
          if (waiting && m.ticket.version > waiting.version) {
            pendingRef.current.delete(m.orderId);
            const queued = queuedRef.current.get(m.orderId);
            queuedRef.current.delete(m.orderId);
            if (queued) sendNow(queued, m.ticket.version);
            setPending(new Map(pendingRef.current));
          }
        } else if (m.type === 'error') {
          setMessage({ text: plainWords(m.code), at: Date.now() });
          if (m.orderId) {
            pendingRef.current.delete(m.orderId);
            queuedRef.current.delete(m.orderId);
            setPending(new Map(pendingRef.current));
          }
        } else if (m.type === 'resync') {
          setMessage({ text: 'Catching up…', at: Date.now() });
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

  // A tap whose answer never came (a dropped socket) frees its buttons again.
  useEffect(() => {
    if (!pending.size) return;
    const timer = setTimeout(() => {
      pendingRef.current.clear();
      queuedRef.current.clear();
      setPending(new Map());
    }, PENDING_MS);
    return () => clearTimeout(timer);
  }, [pending]);

  const transmit = (command: Held) => {
    const waiting = pendingRef.current.get(command.orderId);
    if (waiting) {
      // Sent when the kitchen answers the one before (the socket's handler).
      queuedRef.current.set(command.orderId, command);
      pendingRef.current.set(command.orderId, { ...waiting, to: command.to });
    } else {
      sendNow(command, tickets.get(command.orderId)?.version ?? 0);
    }
    setPending(new Map(pendingRef.current));
  };
  /** Sends the held tap now (its undo time is over, or another tap came). */
  const release = () => {
    const command = heldRef.current;
    heldRef.current = null;
    setHeld(null);
    if (command) transmit(command);
  };
  const tap = (type: Command, ticket: Ticket, event: MouseEvent) => {
    const now = Date.now();
    const previous = lastTap.current;
    const [x, y] = [event.clientX, event.clientY];
    if (previous && previous.orderId !== ticket.orderId && now - previous.at < DOUBLE_TAP_MS
      && Math.hypot(previous.x - x, previous.y - y) < DOUBLE_TAP_PX) return;
    lastTap.current = { orderId: ticket.orderId, at: now, x, y };
    release();
    setMessage(null);
    const shown = displayed(ticket);
    const to = AFTER[type][shown];
    if (!to) return;
    const command = { orderId: ticket.orderId, type, to, label: `${type === 'recall' ? 'Recalled' : DONE_WORD[to]} ${orderLabel(ticket.number, ticket.orderId)}` };
    heldRef.current = command;
    setHeld(command);
  };
  const undo = () => {
    heldRef.current = null;
    setHeld(null);
  };
  /** Where the board shows a ticket: where a held or sent tap takes it, else where it is. */
  const displayed = (t: Ticket) => (held?.orderId === t.orderId ? held.to : pending.get(t.orderId)?.to ?? t.status);
  // The held tap is sent when its undo time is over (and when the board closes: see above).
  useEffect(() => {
    if (!held) return;
    const timer = setTimeout(release, UNDO_MS);
    return () => clearTimeout(timer);
  }, [held]);

  if (user?.role !== 'KITCHEN_STAFF') {
    return <section><h1>Kitchen</h1><p role="alert" className="error">The kitchen board is for kitchen staff. <Link to="/login?next=/kitchen">Sign in</Link> with a kitchen account.</p></section>;
  }
  const fullScreen = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => undefined);
    else document.documentElement.requestFullscreen().catch(() => undefined);
  };
  // New orders: newest first, so an arrival is always in sight; the rest oldest first (most urgent).
  const byColumn = (status: string) =>
    [...tickets.values()]
      .filter((t) => displayed(t) === status)
      .sort((a, b) => (status === 'PLACED' ? b.placedAt.localeCompare(a.placedAt) : a.placedAt.localeCompare(b.placedAt)));
  return (
    <section className="kitchen">
      <div className="board-bar">
        <h1>Kitchen</h1>
        <span className={`connection ${state}`} role="status" data-testid="connection">
          {state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
        <button type="button" onClick={fullScreen}>Full screen</button>
      </div>
      <SoldOut />
      {message && <p role="alert" className="board-message" key={message.at}>{message.text}</p>}
      {held && (
        <p role="status" className="undo-bar" key={`${held.orderId}-${held.to}`}>
          {held.label}. <button type="button" onClick={undo}>Undo</button>
          <span className="undo-timer" style={{ animationDuration: `${UNDO_MS}ms` }} aria-hidden="true" />
        </p>
      )}
      <div className="board">
        {COLUMNS.map((column) => {
          const tickets = byColumn(column);
          return (
            <section key={column} className="column" aria-label={column}>
              <h2>{HEADING[column]} <span className="count">{tickets.length}</span></h2>
              <div className="column-body">
                {tickets.map((t) => {
                  const minutes = ageMinutes(now, t.placedAt);
                  const sending = pending.has(t.orderId);
                  return (
                    <article key={t.orderId} aria-busy={sending} className={`ticket age-${minutes >= 15 ? 'late' : minutes >= 8 ? 'warn' : 'ok'}`} data-order={t.orderId}>
                      <header><Link to={`/ticket/${t.orderId}`} className="ticket-number">{orderLabel(t.number, t.orderId)}</Link> <span className="age">{minutes < 1 ? 'new' : `${minutes} min`}</span></header>
                      <ul>
                        {t.items.map((i, n) => (
                          <li key={n}>
                            <strong>{i.quantity}×</strong> {i.name} <span className="station">{i.station}</span>
                            {i.note && <p className="ticket-note">{i.note}</p>}
                          </li>
                        ))}
                      </ul>
                      <div className="actions">
                        {column === 'READY' && <button type="button" className="secondary" onClick={(e) => tap('recall', t, e)}>Recall</button>}
                        <button type="button" className="bump" onClick={(e) => tap('bump', t, e)}>{NEXT[column]}</button>
                      </div>
                    </article>
                  );
                })}
              </div>
            </section>
          );
        })}
      </div>
    </section>
  );
}
