// The board's connection to the kitchen: authenticates with the page's token, names this
// tablet (its device name, kept in the browser) and the stations it shows, resumes with the
// last sequence number it saw, reconnects after a drop, and gives up for the sign-in page when
// the kitchen says the token has ended.
import { useEffect, useRef, useState, type MutableRefObject } from 'react';
import { appConfig, session } from '../api';

/** Wait before reconnecting after a drop; doubled up to 5 s. */
const RECONNECT_MS = 500;
const RECONNECT_MAX_MS = 5_000;
/** The WebSocket close code the kitchen ends a socket with when its token is refused. */
const POLICY_CLOSE = 1008;
const DEVICE_KEY = 'restaurant.kitchen.device';
const STATIONS_KEY = 'restaurant.kitchen.stations';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'signed-out';

/** This tablet's name: made once and kept, so the kitchen remembers its stations. */
export function deviceName(): string {
  let name = localStorage.getItem(DEVICE_KEY);
  if (!name) {
    name = `tablet-${Math.random().toString(36).slice(2, 8)}`;
    localStorage.setItem(DEVICE_KEY, name);
  }
  return name;
}

/** The stations this browser chose last (none: the expo); `null` when it never chose, and
 * the kitchen tells what this device showed last. */
export function savedStations(): string[] | null {
  try {
    const saved = JSON.parse(localStorage.getItem(STATIONS_KEY) ?? 'null');
    return Array.isArray(saved) ? saved.filter((s) => typeof s === 'string') : null;
  } catch {
    return null;
  }
}

export function saveStations(stations: string[]) {
  localStorage.setItem(STATIONS_KEY, JSON.stringify(stations));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Message = any;

/** The socket for as long as `enabled`; `onMessage` sees every message the kitchen sends. */
export function useKitchenSocket(
  enabled: boolean, stations: string[] | null, onMessage: (m: Message) => void,
  /** Where the open socket is kept (the page's, so that its own clean-ups may still send). */
  socket: MutableRefObject<WebSocket | null>,
) {
  const [state, setState] = useState<Connection>('connecting');
  const handler = useRef(onMessage);
  handler.current = onMessage;
  const stationsRef = useRef(stations);

  // A change of stations on an open socket: the kitchen answers with a fresh board.
  useEffect(() => {
    if (stations === null || stationsRef.current?.join() === stations.join()) return;
    stationsRef.current = stations;
    if (socket.current?.readyState === WebSocket.OPEN) {
      socket.current.send(JSON.stringify({ type: 'view', device: deviceName(), stations }));
    }
  }, [stations]);

  useEffect(() => {
    if (!enabled) return;
    let lastSeq: number | undefined;
    let delay = RECONNECT_MS;
    let stopped = false;
    let tokenEnded = false;
    let timer: ReturnType<typeof setTimeout>;
    const connect = async () => {
      const { kitchenUrl } = await appConfig();
      if (stopped) return;
      const ws = new WebSocket(kitchenUrl.replace(/^http/, 'ws') + '/ws');
      socket.current = ws;
      ws.onopen = () => ws.send(JSON.stringify({
        type: 'auth', token: session()?.token, device: deviceName(),
        ...(stationsRef.current !== null ? { stations: stationsRef.current } : {}),
        ...(lastSeq !== undefined ? { lastSeq } : {}),
      }));
      ws.onmessage = (event) => {
        const m = JSON.parse(event.data);
        if (m.type === 'snapshot' || m.type === 'ticket' || m.type === 'caughtUp') {
          lastSeq = m.seq;
          setState('live');
          delay = RECONNECT_MS;
        } else if (m.type === 'view') {
          // What this tablet shows now (perhaps what the kitchen remembered for it).
          stationsRef.current = m.stations;
        } else if (m.type === 'error' && !m.orderId && (m.code === 'UNAUTHENTICATED' || m.code === 'FORBIDDEN')) {
          tokenEnded = true;
        }
        handler.current(m);
      };
      ws.onclose = (event) => {
        if (stopped) return;
        if (tokenEnded || event.code === POLICY_CLOSE) {
          // Retrying with the same token would be refused forever: sign in again.
          setState('signed-out');
          return;
        }
        setState('reconnecting');
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket.current?.close();
    };
  }, [enabled]);

  const send = (message: object) => {
    if (socket.current?.readyState === WebSocket.OPEN) socket.current.send(JSON.stringify(message));
  };
  return { state, send };
}
