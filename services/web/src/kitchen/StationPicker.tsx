// Which stations this tablet shows: the expo (whole tickets) or one or more stations.
export function StationPicker({ known, chosen, choose }: { known: string[]; chosen: string[]; choose: (stations: string[]) => void }) {
  const toggle = (station: string) =>
    choose(chosen.includes(station) ? chosen.filter((s) => s !== station) : [...chosen, station].sort());
  return (
    <div className="station-picker" role="group" aria-label="Show">
      <button type="button" aria-pressed={chosen.length === 0} onClick={() => choose([])}>Expo</button>
      {known.map((station) => (
        <button key={station} type="button" aria-pressed={chosen.includes(station)} onClick={() => toggle(station)}>{station}</button>
      ))}
    </div>
  );
}
