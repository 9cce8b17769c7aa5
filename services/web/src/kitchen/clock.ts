// One ticker for every ticket's age on the board. A card re-renders when its own age in
// minutes changes, not the whole board every second: on a slow tablet with a busy service,
// re-rendering every card each second kept the main thread busy (Lighthouse's blocking time).
import { useEffect, useState } from 'react';

/** How often ages are looked at: a minute boundary shows within a second. */
const TICK_MS = 1000;

const listeners = new Set<() => void>();
let ticker: ReturnType<typeof setInterval> | undefined;

function onTick(listener: () => void): () => void {
  listeners.add(listener);
  ticker ??= setInterval(() => listeners.forEach((l) => l()), TICK_MS);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
}

/** Whole minutes since `placedAt`, never negative (the tablet's clock may be behind). */
export function ageMinutes(now: number, placedAt: string): number {
  return Math.max(0, Math.floor((now - Date.parse(placedAt)) / 60000));
}

/** A ticket's age in whole minutes, kept current (React skips a render when it is unchanged). */
export function useAgeMinutes(placedAt: string): number {
  const [minutes, setMinutes] = useState(() => ageMinutes(Date.now(), placedAt));
  useEffect(() => {
    const look = () => setMinutes(ageMinutes(Date.now(), placedAt));
    look();
    return onTick(look);
  }, [placedAt]);
  return minutes;
}
