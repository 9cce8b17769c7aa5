import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { saveSession, session } from '../api';
import { SoldOut } from '../kitchen/SoldOut';
import { orderLabel, useTitle } from '../ui';
import { savedStations, saveStations, useKitchenSocket, type Message } from '../kitchen/socket';
import { StationPicker } from '../kitchen/StationPicker';
import { TicketCard } from '../kitchen/TicketCard';
import { doneFor, HANDED_OVER_KEPT, isRemake, KNOWN_STATIONS, progress, type Ticket } from '../kitchen/types';
import { SoundControls, useSounds } from '../kitchen/sounds';
import { RejectForm, VoidStrip } from '../kitchen/Voids';
import { AllDay } from '../kitchen/AllDay';
import { HandedOver } from '../kitchen/HandedOver';

const COLUMNS = ['PLACED', 'ACCEPTED', 'PREPARING', 'READY'];
const HEADING: Record<string, string> = { PLACED: 'New', ACCEPTED: 'Accepted', PREPARING: 'Preparing', READY: 'Ready' };
const NEXT: Record<string, string> = { PLACED: 'Accept', ACCEPTED: 'Start', PREPARING: 'Ready', READY: 'Done' };
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

export function Kitchen() {
  useTitle('Kitchen board');
  const user = session()?.user;
  const navigate = useNavigate();
  const [tickets, setTickets] = useState<Map<string, Ticket>>(new Map());
  // The tickets as the socket's messages left them (a burst arrives before the next render).
  const ticketsRef = useRef(new Map<string, Ticket>());
  // What this tablet shows: `null` until the kitchen says (when this browser never chose).
  const [chosen, setChosen] = useState<string[] | null>(savedStations);
  const stations = chosen ?? [];
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
  const socket = useRef<WebSocket | null>(null);
  const sounds = useSounds();
  // Cancelled tickets stay on the board, struck through with their reason, until a cook clears them.
  const [voids, setVoids] = useState<Map<string, Ticket>>(new Map());
  // The last handed-over tickets, newest first: the expo may recall one to be made again.
  const [handedOver, setHandedOver] = useState<Ticket[]>([]);
  // The ticket the keyboard (or bump bar) acts on, and the one a cook is rejecting.
  const [selected, setSelected] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState<string | null>(null);
  const [showAllDay, setShowAllDay] = useState(true);
  /** Sends a command for a ticket at `version`; it waits for the kitchen's answer. */
  const sendNow = (command: Held, version: number) => {
    pendingRef.current.set(command.orderId, { version, to: command.to });
    socket.current?.send(JSON.stringify({ type: command.type, orderId: command.orderId }));
  };

  // A held tap still counts when the board closes (declared before the socket's hook, so this
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
    if (!message) return;
    const timer = setTimeout(() => setMessage(null), MESSAGE_MS);
    return () => clearTimeout(timer);
  }, [message]);

  const onMessage = (m: Message) => {
    if (m.type === 'view') {
      saveStations(m.stations);
      setChosen(m.stations);
    } else if (m.type === 'snapshot') {
      ticketsRef.current = new Map(m.tickets.map((t: Ticket) => [t.orderId, t]));
      setTickets(ticketsRef.current);
      setHandedOver(m.handedOver ?? []);
    } else if (m.type === 'ticket') {
      const before = ticketsRef.current.get(m.orderId);
      const cancelled = m.ticket.status === 'CANCELLED';
      if (cancelled && before) sounds.play('void');
      else if (m.ticket.rush && before && !before.rush) sounds.play('rush');
      else if (!before && (m.ticket.status === 'PLACED' || isRemake(m.ticket))) sounds.play('new');
      // A cancellation is shown, not dropped: the cooks must know to stop.
      if (cancelled && before) setVoids((current) => new Map(current).set(m.orderId, m.ticket));
      const next = new Map(ticketsRef.current);
      const handed = m.ticket.status === 'COMPLETED' && !isRemake(m.ticket);
      if (handed || cancelled) next.delete(m.orderId);
      else next.set(m.orderId, m.ticket);
      setHandedOver((list) => {
        const others = list.filter((t) => t.orderId !== m.orderId);
        return handed ? [m.ticket, ...others].slice(0, HANDED_OVER_KEPT) : others;
      });
      ticketsRef.current = next;
      setTickets(next);
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
  const { state, send } = useKitchenSocket(user?.role === 'KITCHEN_STAFF', chosen, onMessage, socket);

  // The kitchen said this sign-in has ended (revoked or expired): sign in again.
  useEffect(() => {
    if (state !== 'signed-out') return;
    saveSession(null);
    navigate('/login?next=/kitchen', { replace: true });
  }, [state]);

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
  const tap = (type: Command, ticket: Ticket, event?: MouseEvent) => {
    const now = Date.now();
    const previous = lastTap.current;
    const [x, y] = event ? [event.clientX, event.clientY] : [-100, -100];
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
  /** A station's lines on a ticket: done (each of this tablet's stations on it), or back. */
  const stationTap = (ticket: Ticket, done: boolean) => {
    setMessage(null);
    for (const p of progress(ticket)) {
      if (stations.includes(p.station) && (p.doneAt === null) === done) {
        send({ type: done ? 'stationBump' : 'stationRecall', orderId: ticket.orderId, station: p.station });
      }
    }
  };
  const rush = (t: Ticket) => send({ type: 'rush', orderId: t.orderId, rush: !t.rush });
  // A remake is the kitchen's own record (its order stays finished): sent at once, without the
  // undo of a status tap; a mistaken recall is handed over again.
  const remake = (t: Ticket) => send({ type: 'recall', orderId: t.orderId });
  const bump = (t: Ticket, event?: MouseEvent) => (isRemake(t) ? send({ type: 'bump', orderId: t.orderId }) : tap('bump', t, event));
  const reject = (t: Ticket, reason: string) => {
    setRejecting(null);
    send({ type: 'reject', orderId: t.orderId, reason });
  };
  const clearVoid = (orderId: string) => setVoids((current) => {
    const next = new Map(current);
    next.delete(orderId);
    return next;
  });
  /** Where the board shows a ticket: where a held or sent tap takes it, else where it is. */
  // A remake is made again: it shows with the tickets being prepared.
  const displayed = (t: Ticket) =>
    (held?.orderId === t.orderId ? held.to : pending.get(t.orderId)?.to ?? (isRemake(t) ? 'PREPARING' : t.status));
  // The held tap is sent when its undo time is over (and when the board closes: see above).
  useEffect(() => {
    if (!held) return;
    const timer = setTimeout(release, UNDO_MS);
    return () => clearTimeout(timer);
  }, [held]);

  const known = useMemo(() => {
    const all = new Set(KNOWN_STATIONS);
    for (const t of tickets.values()) for (const i of t.items) all.add(i.station);
    return [...all];
  }, [tickets]);
  const choose = (picked: string[]) => {
    saveStations(picked);
    setChosen(picked);
  };

  // Keys (a keyboard or a bump bar): a digit selects the ticket showing it, Enter / Space / B
  // bumps the selected one, R recalls it, Escape lets it go. Typing in a box is left alone.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => undefined);
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  if (user?.role !== 'KITCHEN_STAFF') {
    return <section><h1>Kitchen</h1><p role="alert" className="error">The kitchen board is for kitchen staff. <Link to="/login?next=/kitchen">Sign in</Link> with a kitchen account.</p></section>;
  }
  const fullScreen = () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => undefined);
    else document.documentElement.requestFullscreen().catch(() => undefined);
  };
  // Rushes first, then remakes (their customer is already waiting), then by time.
  const urgentFirst = (a: Ticket, b: Ticket) => Number(!!b.rush) - Number(!!a.rush) || Number(isRemake(b)) - Number(isRemake(a));
  // New orders: newest first, so an arrival is always in sight; the rest oldest first (most urgent).
  const byColumn = (status: string) =>
    [...tickets.values()]
      .filter((t) => displayed(t) === status)
      .sort((a, b) => urgentFirst(a, b) || (status === 'PLACED' ? b.placedAt.localeCompare(a.placedAt) : a.placedAt.localeCompare(b.placedAt)));
  const station = stations.length > 0;
  const stationColumns = station ? [
    { key: 'todo', heading: 'To do', tickets: [...tickets.values()].filter((t) => !doneFor(t, stations)).sort((a, b) => urgentFirst(a, b) || a.placedAt.localeCompare(b.placedAt)) },
    { key: 'done', heading: 'Done here', tickets: [...tickets.values()].filter((t) => doneFor(t, stations)).sort((a, b) => b.placedAt.localeCompare(a.placedAt)) },
  ] : [];
  // The tickets in the order the digits count them: column by column, top to bottom.
  const ordered = station ? stationColumns.flatMap((c) => c.tickets) : COLUMNS.flatMap(byColumn);
  const keyOf = (t: Ticket) => {
    const n = ordered.indexOf(t) + 1;
    return n >= 1 && n <= 9 ? n : undefined;
  };
  onKey.current = (event: KeyboardEvent) => {
    const target = event.target as HTMLElement | null;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.isContentEditable)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const chosen = ordered.find((t) => t.orderId === selected);
    if (/^[1-9]$/.test(event.key)) {
      const t = ordered[Number(event.key) - 1];
      if (t) setSelected(t.orderId);
    } else if (event.key === 'Escape') {
      setSelected(null);
    } else if (chosen && (event.key === 'Enter' || event.key === ' ' || event.key.toLowerCase() === 'b')) {
      event.preventDefault();
      if (station) { if (!doneFor(chosen, stations)) stationTap(chosen, true); } else bump(chosen);
    } else if (chosen && event.key.toLowerCase() === 'r') {
      if (station) { if (doneFor(chosen, stations)) stationTap(chosen, false); } else tap('recall', chosen);
    } else if (event.key.toLowerCase() === 'u' && held) {
      undo();
    }
  };
  return (
    <section className={`kitchen ${station ? 'station-view' : 'expo-view'}`} data-last-sound={sounds.last ?? undefined}>
      <div className="board-bar">
        <h1>{station ? `Kitchen: ${stations.join(', ')}` : 'Kitchen: expo'}</h1>
        <StationPicker known={known} chosen={stations} choose={choose} />
        <span className={`connection ${state}`} role="status" data-testid="connection">
          {state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : state === 'signed-out' ? 'Signed out' : 'Reconnecting…'}
        </span>
        <SoundControls muted={sounds.muted} volume={sounds.volume} enabled={sounds.enabled} setMuted={sounds.setMuted} setVolume={sounds.setVolume} />
        <button type="button" aria-pressed={showAllDay} onClick={() => setShowAllDay(!showAllDay)}>All day</button>
        <Link to="/kitchen/speed" className="button">Speed</Link>
        <button type="button" onClick={fullScreen}>Full screen</button>
      </div>
      <SoldOut />
      {message && <p role="alert" className="board-message" key={message.at}>{message.text}</p>}
      <VoidStrip voids={[...voids.values()]} clear={clearVoid} />
      {showAllDay && <AllDay tickets={tickets.values()} />}
      {!station && <HandedOver tickets={handedOver} recall={remake} />}
      {held && (
        <p role="status" className="undo-bar" key={`${held.orderId}-${held.to}`}>
          {held.label}. <button type="button" onClick={undo}>Undo</button>
          <span className="undo-timer" style={{ animationDuration: `${UNDO_MS}ms` }} aria-hidden="true" />
        </p>
      )}
      {station ? (
        <div className="board station-board">
          {stationColumns.map((column) => (
            <section key={column.key} className="column" aria-label={column.heading}>
              <h2>{column.heading} <span className="count">{column.tickets.length}</span></h2>
              <div className="column-body">
                {column.tickets.map((t) => (
                  <TicketCard key={t.orderId} ticket={t} busy={false} selected={selected === t.orderId} keyNumber={keyOf(t)} actions={
                    column.key === 'todo'
                      ? <button type="button" className="bump" onClick={() => stationTap(t, true)}>Done</button>
                      : <button type="button" className="secondary" onClick={() => stationTap(t, false)}>Recall</button>
                  } />
                ))}
              </div>
            </section>
          ))}
        </div>
      ) : (
        <div className="board">
          {COLUMNS.map((column) => {
            const tickets = byColumn(column);
            return (
              <section key={column} className="column" aria-label={column}>
                <h2>{HEADING[column]} <span className="count">{tickets.length}</span></h2>
                <div className="column-body">
                  {tickets.map((t) => (
                    <TicketCard key={t.orderId} ticket={t} busy={pending.has(t.orderId)} selected={selected === t.orderId}
                      keyNumber={keyOf(t)} actions={isRemake(t)
                        ? <button type="button" className="bump" onClick={() => bump(t)}>Hand over</button>
                        : rejecting === t.orderId
                        ? <RejectForm ticket={t} reject={(reason) => reject(t, reason)} cancel={() => setRejecting(null)} />
                        : <>
                          <button type="button" className="secondary rush-toggle" aria-pressed={!!t.rush} onClick={() => rush(t)}>Rush</button>
                          {(column === 'PLACED' || column === 'ACCEPTED') && <button type="button" className="secondary" onClick={() => setRejecting(t.orderId)}>Reject</button>}
                          {column === 'READY' && <button type="button" className="secondary" onClick={(e) => tap('recall', t, e)}>Recall</button>}
                          <button type="button" className="bump" onClick={(e) => tap('bump', t, e)}>{NEXT[column]}</button>
                        </>} />
                  ))}
                </div>
              </section>
            );
          })}
        </div>
      )}
    </section>
  );
}

