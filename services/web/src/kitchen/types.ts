// What the kitchen's tablet socket says about a ticket (services/kitchen/PROTOCOL.md).

export interface Item { name: string; station: string; quantity: number; note: string | null }
export interface StationProgress { station: string; doneAt: string | null }
export interface Ticket {
  orderId: string; number?: number; status: string; version: number; placedAt: string;
  items: Item[];
  stations?: StationProgress[];
  rush?: boolean;
  orderType?: string;
  table?: string | null;
  cancelReason?: string | null;
  /** A handed-over ticket the kitchen is making again, since when (its order stays COMPLETED). */
  remakeSince?: string | null;
}

/** A handed-over ticket brought back to be made again. */
export const isRemake = (t: Ticket): boolean => t.status === 'COMPLETED' && !!t.remakeSince;

/** Handed-over tickets the expo's list keeps (the kitchen's snapshot sends as many). */
export const HANDED_OVER_KEPT = 8;

/** The stations of the menu, for the picker (a station seen on a ticket is added to them). */
export const KNOWN_STATIONS = ['grill', 'fry', 'cold', 'pastry', 'bar', 'oven', 'stove'];

/** The stations a ticket has and whether each is done. */
export const progress = (t: Ticket): StationProgress[] => t.stations ?? [];

/** Whether every one of `stations` on this ticket is done (a station not on it counts as done). */
export function doneFor(t: Ticket, stations: string[]): boolean {
  return progress(t).filter((p) => stations.includes(p.station)).every((p) => p.doneAt !== null);
}
