// The manager's page: today's speed of service from the kitchen (GET /speed): tickets, the time
// to READY, each station's average and 90th percentile with a chart, and the slowest items.
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { appConfig, session } from '../api';
import { ErrorBanner, useTitle } from '../ui';

interface Durations { count: number; averageSeconds: number; p90Seconds: number }
interface Named extends Durations { station: string; name?: string }
interface Report { tickets: number; finished: number; toReady: Durations | null; stations: Named[]; slowestItems: Named[] }
/** How often the page asks again. */
const REFRESH_MS = 15_000;

export const minutes = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.round(seconds % 60)).padStart(2, '0')}`;

function Chart({ stations }: { stations: Named[] }) {
  const most = Math.max(60, ...stations.map((s) => s.p90Seconds));
  const row = 44;
  const width = 640;
  const label = 110;
  const scale = (s: number) => ((width - label - 70) * s) / most;
  return (
    <svg className="speed-chart" viewBox={`0 0 ${width} ${stations.length * row + 10}`} role="img"
      aria-label={`Average and 90th percentile minutes per station: ${stations.map((s) => `${s.station} ${minutes(s.averageSeconds)} / ${minutes(s.p90Seconds)}`).join('; ')}`}>
      {stations.map((s, n) => (
        <g key={s.station} transform={`translate(0 ${n * row + 6})`}>
          <text x={0} y={22} className="chart-label">{s.station}</text>
          <rect x={label} y={4} height={14} width={scale(s.averageSeconds)} className="bar-average" />
          <rect x={label} y={20} height={14} width={scale(s.p90Seconds)} className="bar-p90" />
          <text x={label + scale(s.p90Seconds) + 6} y={32} className="chart-value">{minutes(s.p90Seconds)}</text>
          <text x={label + scale(s.averageSeconds) + 6} y={16} className="chart-value">{minutes(s.averageSeconds)}</text>
        </g>
      ))}
    </svg>
  );
}

export function Speed() {
  useTitle('Speed of service');
  const user = session()?.user;
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (user?.role !== 'KITCHEN_STAFF') return;
    let stopped = false;
    const load = async () => {
      try {
        const { kitchenUrl } = await appConfig();
        const response = await fetch(`${kitchenUrl}/speed`, { headers: { authorization: `Bearer ${session()?.token}` } });
        if (!response.ok) throw new Error(String(response.status));
        if (!stopped) {
          setReport(await response.json());
          setError(null);
        }
      } catch {
        if (!stopped) setError('The kitchen could not be reached. Trying again shortly.');
      }
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [user?.role, attempt]);

  if (user?.role !== 'KITCHEN_STAFF') {
    return <section><h1>Speed of service</h1><p role="alert" className="error">This page is for kitchen staff. <Link to="/login?next=/kitchen/speed">Sign in</Link> with a kitchen account.</p></section>;
  }
  return (
    <section className="speed">
      <h1>Speed of service today</h1>
      <ErrorBanner message={error} retry={() => setAttempt((n) => n + 1)} />
      {report && (
        <>
          <dl className="speed-totals">
            <div><dt>Tickets</dt><dd data-testid="speed-tickets">{report.tickets}</dd></div>
            <div><dt>Finished</dt><dd>{report.finished}</dd></div>
            <div><dt>Placed to ready, average</dt><dd>{report.toReady ? minutes(report.toReady.averageSeconds) : '–'}</dd></div>
            <div><dt>Placed to ready, 90th percentile</dt><dd>{report.toReady ? minutes(report.toReady.p90Seconds) : '–'}</dd></div>
          </dl>
          <h2>By station</h2>
          {report.stations.length === 0 ? <p>No station has bumped a ticket today.</p> : (
            <>
              <Chart stations={report.stations} />
              <p className="legend"><span className="key-average" /> average <span className="key-p90" /> 90th percentile (minutes:seconds)</p>
              <table className="speed-table">
                <thead><tr><th scope="col">Station</th><th scope="col">Tickets</th><th scope="col">Average</th><th scope="col">90th percentile</th></tr></thead>
                <tbody>
                  {report.stations.map((s) => (
                    <tr key={s.station} data-station={s.station}><th scope="row">{s.station}</th><td>{s.count}</td><td>{minutes(s.averageSeconds)}</td><td>{minutes(s.p90Seconds)}</td></tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          <h2>Slowest items</h2>
          {report.slowestItems.length === 0 ? <p>Nothing timed yet.</p> : (
            <ol className="slowest">
              {report.slowestItems.map((i) => (
                <li key={`${i.name}-${i.station}`}><strong>{i.name}</strong> ({i.station}): {minutes(i.averageSeconds)} on average, {i.count} made</li>
              ))}
            </ol>
          )}
        </>
      )}
      <p><Link to="/kitchen">Back to the board</Link></p>
    </section>
  );
}
