// First contentful paint of the web UI on a throttled phone, in Debian's Chromium: Lighthouse's
// mobile profile (150 ms round trips, 1.6 Mbit/s down, 750 kbit/s up, CPU 4× slower), a cold
// cache each run. Prints one line per page with the median of RUNS runs; ci/bench-web records
// them in ci/BENCHMARKS.md. Against WEB_BASE_URL (default: the local gateway).
//   node bench/paint.mjs [RUNS]
import { chromium } from 'playwright-core';

const BASE = process.env.WEB_BASE_URL ?? 'http://127.0.0.1:8082';
const RUNS = Number(process.argv[2] ?? 5);
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
/** Lighthouse's "slow 4G" mobile throttling, as Chromium's DevTools protocol takes it. */
const NETWORK = { offline: false, latency: 150, downloadThroughput: (1638.4 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };
const CPU_SLOWDOWN = 4;
/** The pages, and what shows that their content (not only the shell) is there. */
const PAGES = [
  ['menu', '/', '.menu li button'],
  ['sign in', '/login', 'form button'],
  ['cart (empty)', '/order/create', 'main h1'],
];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ARGS });
try {
  for (const [name, path, ready] of PAGES) {
    const fcp = [];
    const content = [];
    const bytes = [];
    for (let run = 0; run < RUNS; run += 1) {
      const context = await browser.newContext({ viewport: { width: 412, height: 823 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', NETWORK);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
      let transferred = 0;
      cdp.on('Network.loadingFinished', (event) => { transferred += event.encodedDataLength; });
      await page.goto(`${BASE}${path}`, { waitUntil: 'load', timeout: 60_000 });
      await page.waitForSelector(ready, { timeout: 60_000 });
      const ms = await page.evaluate(() => ({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        now: performance.now(),
      }));
      fcp.push(ms.fcp);
      content.push(ms.now);
      bytes.push(transferred);
      await context.close();
    }
    console.log(`web ${name.padEnd(13)} first contentful paint p50 ${median(fcp).toFixed(0)} ms (min ${Math.min(...fcp).toFixed(0)}, max ${Math.max(...fcp).toFixed(0)}), content shown p50 ${median(content).toFixed(0)} ms, ${(median(bytes) / 1024).toFixed(1)} KiB transferred  (${RUNS} cold runs, slow 4G, CPU ${CPU_SLOWDOWN}× slower)`);
  }
} finally {
  await browser.close();
}
