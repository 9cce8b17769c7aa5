// Talking to the gateway: GraphQL over HTTP, subscriptions over graphql-transport-ws, and the
// signed-in user's token, which the page keeps itself (no cookies, so no CSRF surface).
import { createClient, type Client } from 'graphql-ws';

export type Role = 'CUSTOMER' | 'KITCHEN_STAFF';
export interface Session { token: string; user: { id: string; username: string; role: Role } }

const SESSION_KEY = 'restaurant.session';

export function session(): Session | null {
  const raw = localStorage.getItem(SESSION_KEY);
  return raw ? (JSON.parse(raw) as Session) : null;
}

export function saveSession(s: Session | null) {
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else localStorage.removeItem(SESSION_KEY);
  window.dispatchEvent(new Event('session'));
}

/** An error the API gave, with its stable code, in words a person understands. */
export class ApiError extends Error {
  constructor(public code: string, message: string) {
    super(message);
  }
}

const FRIENDLY: Record<string, string> = {
  UNAUTHENTICATED: 'Please sign in again.',
  FORBIDDEN: 'That is not something you can do.',
  NOT_FOUND: 'We could not find that.',
  UNAVAILABLE: 'The kitchen is busy connecting; please try again in a moment.',
  INTERNAL: 'Something went wrong on our side; please try again.',
};

export function friendly(e: unknown): string {
  if (e instanceof ApiError) return FRIENDLY[e.code] && e.code !== 'BAD_USER_INPUT' && e.code !== 'CONFLICT' ? FRIENDLY[e.code] : sentence(e.message);
  return 'We could not reach the restaurant. Check your connection and try again.';
}

/** A server's message as a sentence: capital first letter, full stop. */
function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** What a failed sign-in means: the one case where UNAUTHENTICATED is the person's typing. */
export function signInProblem(e: unknown): string {
  if (e instanceof ApiError && e.code === 'UNAUTHENTICATED') return 'Wrong username or password. Check both and try again.';
  return friendly(e);
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const s = session();
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(s ? { authorization: `Bearer ${s.token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) {
    const first = body.errors[0];
    const code = first.extensions?.code ?? 'INTERNAL';
    if (code === 'UNAUTHENTICATED' && s) saveSession(null);
    throw new ApiError(code, first.message);
  }
  return body.data as T;
}

let subscriptions: Client | null = null;
let subscriptionsToken: string | undefined;

/** One socket per signed-in user, authenticated in `connection_init`. */
export function live(): Client {
  const token = session()?.token;
  if (!subscriptions || token !== subscriptionsToken) {
    subscriptions?.dispose();
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    subscriptions = createClient({
      url: `${scheme}://${location.host}/graphql`,
      connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
      retryAttempts: Infinity,
      shouldRetry: () => true,
      // A dropped socket is back within seconds (0.5 s doubling to 5 s), not graphql-ws's
      // default of up to half a minute.
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 5_000))),
      // The gateway closes a connection that has not pinged for 15 s (a dead client's
      // subscriptions must not pile up); a closed socket would miss events until it reconnects.
      keepAlive: 5_000,
    });
    subscriptionsToken = token;
  }
  return subscriptions;
}

export interface Config { kitchenUrl: string }
let config: Promise<Config> | null = null;
/** Where the kitchen service is (its WebSocket and REST), as the gateway says. */
export function appConfig(): Promise<Config> {
  config ??= fetch('/config.json').then((r) => r.json());
  return config;
}

/**
 * Signs out for good: revokes the token, then forgets everything this browser kept for the
 * user (session, cart, a pending order's key, the live socket) and loads the menu as a new
 * document, so no page in memory (or the back-forward cache) still holds their data.
 */
export async function signOut() {
  await gql('mutation { logout }').catch(() => undefined);
  subscriptions?.dispose();
  subscriptions = null;
  for (const key of Object.keys(localStorage)) if (key.startsWith('restaurant.')) localStorage.removeItem(key);
  sessionStorage.clear();
  location.replace('/');
}

// A page restored from the back-forward cache after a sign-out (or a sign-in as someone else)
// in another document reloads itself instead of showing what it held.
let hiddenWith: string | undefined;
window.addEventListener('pagehide', () => { hiddenWith = session()?.token; });
window.addEventListener('pageshow', (event) => {
  if (event.persisted && session()?.token !== hiddenWith) location.reload();
});

/** A time as the restaurant's clock shows it: HH:MM, 24-hour. */
export const clock = (iso: string) =>
  new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });

export const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** A menu item whose availability changed: the kitchen 86ed it (sold out) or brought it back. */
export interface MenuChange { id: string; name: string; available: boolean }

/**
 * Calls `changed` with every menu item whose availability changes from now on (open menus and
 * carts show a dish sold out without a reload). Returns the unsubscribe.
 */
export function onMenuChange(changed: (item: MenuChange) => void): () => void {
  return live().subscribe<{ menuItemChanged: MenuChange }>(
    { query: 'subscription { menuItemChanged { id name available } }' },
    {
      next: ({ data }) => { if (data?.menuItemChanged) changed(data.menuItemChanged); },
      error: () => undefined,
      complete: () => undefined,
    },
  );
}
