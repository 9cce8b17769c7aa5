// Lighthouse (mobile profile, its default: slow 4G, CPU 4× slower) on Debian's Chromium, for the
// menu, checkout, order and kitchen board pages of the running system. Prints one line per page
// with the performance, accessibility and best-practices scores; ci/bench-web records them.
// Needs `npm ci` in bench/ (Lighthouse is not among the tests' packages).
//   node bench/lighthouse.mjs
import lighthouse from 'lighthouse';
import { chromium } from 'playwright-core';
import { BASE, CHROMIUM_ARGS, kitchen, menu, newCustomer, placeOrder } from '../tests/kit.mjs';

const PORT = Number(process.env.LIGHTHOUSE_PORT ?? 9333);
/** Open tickets on the board when it is measured (the order page's order is one of them). */
const BUSY_BOARD = 35;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [...CHROMIUM_ARGS, `--remote-debugging-port=${PORT}`],
});
try {
  const context = browser.contexts()[0] ?? (await browser.newContext());
  const setup = await context.newPage();
  await setup.goto(`${BASE}/favicon.svg`);
  const remember = (key, value) => setup.evaluate(([k, v]) => localStorage.setItem(k, JSON.stringify(v)), [key, value]);
  const dishes = await menu();
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: dishes[0].id, note: 'no onions' }]);
  const pages = [
    ['menu', '/', null],
    ['checkout', '/order/create', async () => {
      await remember('restaurant.session', customer);
      await remember('restaurant.cart', dishes.slice(0, 2).map((d) => ({ menuItemId: d.id, name: d.name, priceCents: d.priceCents, quantity: 1 })));
    }],
    ['order', `/orders/${order.id}`, async () => remember('restaurant.session', customer)],
    // A busy service: the board with BUSY_BOARD open tickets (what the 1-second re-render of
    // every ticket cost on a slow tablet showed as blocking time).
    ['board', '/kitchen', async () => {
      for (let n = 1; n < BUSY_BOARD; n += 1) {
        await placeOrder(customer, [{ menuItemId: dishes[n % dishes.length].id, quantity: 1 + (n % 3) }]);
      }
      await remember('restaurant.session', await kitchen());
    }],
  ];
  for (const [name, path, prepare] of pages) {
    if (prepare) await prepare();
    const result = await lighthouse(`${BASE}${path}`, {
      port: PORT,
      output: 'json',
      logLevel: 'error',
      onlyCategories: ['performance', 'accessibility', 'best-practices'],
      // The page's own storage (who is signed in, the cart) is the state under test.
      disableStorageReset: true,
    });
    const score = (id) => Math.round((result.lhr.categories[id].score ?? 0) * 100);
    const audits = result.lhr.audits;
    const failing = Object.values(result.lhr.categories)
      .flatMap((c) => c.auditRefs.filter((r) => r.weight > 0 && (audits[r.id].score ?? 1) < 1).map((r) => r.id));
    const label = name === 'board' ? `board (${BUSY_BOARD} tickets)` : name;
    console.log(`lighthouse ${label.padEnd(9)} performance ${score('performance')}, accessibility ${score('accessibility')}, best practices ${score('best-practices')}; FCP ${audits['first-contentful-paint'].displayValue}, LCP ${audits['largest-contentful-paint'].displayValue}, TBT ${audits['total-blocking-time'].displayValue}, CLS ${audits['cumulative-layout-shift'].displayValue}${failing.length ? `; short of full marks: ${[...new Set(failing)].join(', ')}` : ''}`);
  }
} finally {
  await browser.close();
}
