// All-day counts: per station, how many of each item the open tickets still need (lines whose
// station has not marked them done), live with the board.
import type { Ticket } from './types';

export function allDay(tickets: Iterable<Ticket>): Map<string, Map<string, number>> {
  const counts = new Map<string, Map<string, number>>();
  for (const t of tickets) {
    const done = new Set((t.stations ?? []).filter((s) => s.doneAt !== null).map((s) => s.station));
    for (const item of t.items) {
      if (done.has(item.station)) continue;
      const station = counts.get(item.station) ?? new Map<string, number>();
      station.set(item.name, (station.get(item.name) ?? 0) + item.quantity);
      counts.set(item.station, station);
    }
  }
  return counts;
}

export function AllDay({ tickets }: { tickets: Iterable<Ticket> }) {
  const counts = [...allDay(tickets)].sort(([a], [b]) => a.localeCompare(b));
  return (
    <aside className="all-day" aria-label="All day">
      <h2>All day</h2>
      {counts.length === 0 ? <p>Nothing waiting.</p> : counts.map(([station, items]) => (
        <section key={station} data-station={station}>
          <h3>{station}</h3>
          <ul>
            {[...items].sort(([a], [b]) => a.localeCompare(b)).map(([name, quantity]) => (
              <li key={name} data-item={name}><strong className="all-day-count">{quantity}</strong> {name}</li>
            ))}
          </ul>
        </section>
      ))}
    </aside>
  );
}
