// Small pieces every page shares: the page title, the error banner with a way to retry, the
// toast that never moves the page, and the words for an order's status.
import { useEffect, useState, type ReactNode } from 'react';

/** How long a toast stays. */
export const TOAST_MS = 3_000;

/** Sets the tab's title for this page: "Your cart · Restaurant". */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Restaurant`;
  }, [title]);
}

/** An error in plain words, with a retry when there is something to retry. */
export function ErrorBanner({ message, retry }: { message: string | null; retry?: () => void }) {
  if (!message) return null;
  return (
    <p role="alert" className="error">
      {message}
      {retry && <> <button type="button" className="link" onClick={retry}>Try again</button></>}
    </p>
  );
}

/** A short notice floating over the page (it takes no room, so nothing under it moves). */
export function Toast({ children, stamp }: { children: ReactNode; stamp: number }) {
  const [visible, setVisible] = useState(true);
  useEffect(() => {
    setVisible(true);
    const timer = setTimeout(() => setVisible(false), TOAST_MS);
    return () => clearTimeout(timer);
  }, [stamp]);
  return visible ? <p role="status" className="toast">{children}</p> : null;
}

/** How people say an order: its number of the day, `#042` (an order from before numbers: the
 * end of its id). */
export function orderLabel(number: number | undefined, id: string): string {
  return number ? `#${String(number).padStart(3, '0')}` : `#${id.slice(-6)}`;
}

/** An order's status in a word or two (lists, badges). */
export const STATUS_LABEL: Record<string, string> = {
  PLACED: 'Received',
  ACCEPTED: 'Accepted',
  PREPARING: 'Being prepared',
  READY: 'Ready to collect',
  COMPLETED: 'Collected',
  CANCELLED: 'Cancelled',
};

/** An order's status as a sentence that says what happens next. */
export const STATUS_SENTENCE: Record<string, string> = {
  PLACED: 'Received — waiting for the kitchen to accept it.',
  ACCEPTED: 'Accepted — the kitchen will start on it shortly.',
  PREPARING: 'Being prepared — we will tell you here when it is ready.',
  READY: 'Ready — collect it at the counter.',
  COMPLETED: 'Collected — enjoy your meal!',
  CANCELLED: 'Cancelled — this order will not be made.',
};

/** The steps an order goes through, in order. */
export const STEPS = ['PLACED', 'ACCEPTED', 'PREPARING', 'READY', 'COMPLETED'];
const STEP_LABEL: Record<string, string> = {
  PLACED: 'received', ACCEPTED: 'accepted', PREPARING: 'preparing', READY: 'ready', COMPLETED: 'collected', CANCELLED: 'cancelled',
};

/**
 * The timeline: a step is ticked when the order's current status is at or past it (a recall
 * from READY to PREPARING un-ticks "ready"), with the time it was last reached; a cancelled
 * order shows where it stopped and the cancellation in its own style.
 */
export function Timeline({ status, timeline }: { status: string; timeline: { status: string; at: string }[] }) {
  const last = new Map<string, string>();
  for (const entry of timeline) last.set(entry.status, entry.at);
  const steps = status === 'CANCELLED' ? [...STEPS.filter((s) => last.has(s)), 'CANCELLED'] : STEPS;
  const current = STEPS.indexOf(status);
  return (
    <ol className="timeline" aria-label="Progress">
      {steps.map((step) => {
        const state = step === 'CANCELLED' ? 'cancelled' : status === 'CANCELLED' || STEPS.indexOf(step) <= current ? 'done' : 'todo';
        const at = state !== 'todo' ? last.get(step) : undefined;
        return (
          <li key={step} className={state} data-step={step}>
            {state === 'done' && <span aria-hidden="true">✓ </span>}
            {STEP_LABEL[step]} {at && <time dateTime={at}>{new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>}
            {state === 'todo' && <span className="visually-hidden"> (not yet)</span>}
          </li>
        );
      })}
    </ol>
  );
}
