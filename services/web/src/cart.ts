// The cart lives in localStorage, so it survives a reload.
export interface CartLine { menuItemId: string; name: string; priceCents: number; quantity: number; note?: string }

const KEY = 'restaurant.cart';

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
  if (found) found.quantity = Math.min(50, found.quantity + 1);
  else lines.push({ ...line, quantity: 1 });
  saveCart(lines);
}

export const total = (lines: CartLine[]) => lines.reduce((sum, l) => sum + l.priceCents * l.quantity, 0);
