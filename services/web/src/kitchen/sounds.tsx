// The board's sounds: a new ticket, a rush, a void — each its own, so a cook knows which without
// looking. Browsers only let a page play sound after a person touched it, so the audio starts at
// the first tap or key on the board; mute and volume are kept in the browser.
import { useEffect, useRef, useState } from 'react';

export type Sound = 'new' | 'rush' | 'void';
const SETTINGS_KEY = 'restaurant.kitchen.sound';

/** Each sound's notes: [frequency in Hz, seconds]. */
const NOTES: Record<Sound, [number, number][]> = {
  new: [[880, 0.15]],
  rush: [[988, 0.12], [1319, 0.12], [988, 0.12], [1319, 0.2]],
  void: [[392, 0.25], [262, 0.4]],
};

interface Settings { muted: boolean; volume: number }

function loadSettings(): Settings {
  try {
    const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}');
    return { muted: saved.muted === true, volume: typeof saved.volume === 'number' ? Math.min(1, Math.max(0, saved.volume)) : 0.6 };
  } catch {
    return { muted: false, volume: 0.6 };
  }
}

export function useSounds() {
  const [settings, setSettings] = useState<Settings>(loadSettings);
  const [enabled, setEnabled] = useState(false);
  const [last, setLast] = useState<Sound | null>(null);
  const audio = useRef<AudioContext | null>(null);
  const settingsRef = useRef(settings);
  settingsRef.current = settings;

  // The first gesture on the page unlocks audio.
  useEffect(() => {
    const unlock = () => {
      try {
        audio.current ??= new AudioContext();
        audio.current.resume().catch(() => undefined);
        setEnabled(true);
      } catch {
        // No sound is better than no board.
      }
    };
    window.addEventListener('pointerdown', unlock);
    window.addEventListener('keydown', unlock);
    return () => {
      window.removeEventListener('pointerdown', unlock);
      window.removeEventListener('keydown', unlock);
    };
  }, []);

  const change = (next: Settings) => {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(next));
    setSettings(next);
  };

  const play = (sound: Sound) => {
    setLast(sound);
    const context = audio.current;
    const { muted, volume } = settingsRef.current;
    if (!context || muted || volume === 0) return;
    try {
      let at = context.currentTime;
      for (const [frequency, seconds] of NOTES[sound]) {
        const tone = context.createOscillator();
        const gain = context.createGain();
        tone.type = sound === 'void' ? 'sawtooth' : 'sine';
        tone.frequency.value = frequency;
        gain.gain.value = volume;
        tone.connect(gain).connect(context.destination);
        tone.start(at);
        tone.stop(at + seconds);
        at += seconds;
      }
    } catch {
      // No sound is better than no board.
    }
  };

  return {
    play, enabled, last, muted: settings.muted, volume: settings.volume,
    setMuted: (muted: boolean) => change({ ...settings, muted }),
    setVolume: (volume: number) => change({ ...settings, volume }),
  };
}

export function SoundControls({ muted, volume, setMuted, setVolume, enabled }: {
  muted: boolean; volume: number; enabled: boolean; setMuted: (m: boolean) => void; setVolume: (v: number) => void;
}) {
  return (
    <div className="sound-controls" role="group" aria-label="Sound">
      <button type="button" aria-pressed={muted} onClick={() => setMuted(!muted)}>{muted ? 'Sound off' : 'Sound on'}</button>
      <label className="visually-hidden" htmlFor="volume">Volume</label>
      <input id="volume" type="range" min={0} max={100} value={Math.round(volume * 100)} onChange={(e) => setVolume(Number(e.target.value) / 100)} disabled={muted} />
      {!enabled && !muted && <span className="hint">Tap the board once to turn sound on</span>}
    </div>
  );
}
