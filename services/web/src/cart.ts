// The cart lives in localStorage, so it survives a reload; so does the idempotency key of an
// order being placed, so a reload while "Placing your order…" and a second tap make one order.
export interface CartLine { menuItemId: string; name: string; priceCents: number; quantity: number; note?: string }

const KEY = 'restaurant.cart';
const PENDING_KEY = 'restaurant.pendingOrder';
/** The most of one dish on one order line (the orders service refuses more). */
export const MAX_QUANTITY = 50;
/** The longest note for the kitchen (the orders service refuses longer). */
export const MAX_NOTE_CHARS = 200;

export function cart(): CartLine[] {
  return JSON.parse(localStorage.getItem(KEY) ?? '[]') as CartLine[];
}

export function saveCart(lines: CartLine[]) {
  localStorage.setItem(KEY, JSON.stringify(lines.filter((l) => l.quantity > 0)));
  window.dispatchEvent(new Event('cart'));
}

export function add(line: Omit<CartLine, 'quantity'>) {
  const lines = cart();
  const found = lines.find((l) => l.menuItemId === line.menuItemId);
  if (found) found.quantity = Math.min(MAX_QUANTITY, found.quantity + 1);
  else lines.push({ ...line, quantity: 1 });
  saveCart(lines);
}

export const total = (lines: CartLine[]) => lines.reduce((sum, l) => sum + l.priceCents * l.quantity, 0);

interface Pending { key: string; cart: string }
const fingerprint = (lines: CartLine[]) => JSON.stringify(lines.map((l) => [l.menuItemId, l.quantity, l.note?.trim() ?? '']));

/** The key an attempt to order these lines was made with, if one was (and may have gone through). */
export function pendingOrderKey(lines: CartLine[]): string | null {
  const pending = JSON.parse(localStorage.getItem(PENDING_KEY) ?? 'null') as Pending | null;
  return pending && pending.cart === fingerprint(lines) ? pending.key : null;
}

/**
 * The idempotency key for ordering these lines: the one an earlier attempt at the same cart
 * used (so retrying cannot make a second order), else a new one, stored before it is sent.
 */
export function orderKey(lines: CartLine[]): string {
  const existing = pendingOrderKey(lines);
  if (existing) return existing;
  const key = crypto.randomUUID();
  localStorage.setItem(PENDING_KEY, JSON.stringify({ key, cart: fingerprint(lines) } satisfies Pending));
  return key;
}

/** The order went through: an empty cart and no pending key. */
export function orderPlaced() {
  localStorage.removeItem(PENDING_KEY);
  saveCart([]);
}
