// Before/after screenshots for issue 21, at phone and tablet size, into
// test-results/before-after/. The pages of the build the gateway serves ("after"), or of another
// build's dist folder served in its place by the browser itself ("before"); both against the
// same running system.
//   node bench/screens.mjs after
//   node bench/screens.mjs before /path/to/old/dist
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { BASE, PHONE, TABLET, SHOTS, fillCart, kitchen, launch, menu, newCustomer, placeOrder, setStatus } from '../tests/kit.mjs';

const [label = 'after', dist] = process.argv.slice(2);
const OUT = `${SHOTS}before-after/`;
mkdirSync(OUT, { recursive: true });
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.svg': 'image/svg+xml' };

const browser = await launch();
async function open(viewport, session, path) {
  const context = await browser.newContext({ viewport });
  if (dist) {
    // The old build's files, as its gateway served them (every unknown path: the page).
    await context.route((url) => !url.pathname.startsWith('/graphql') && url.pathname !== '/config.json', (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = join(dist, path);
      const found = path !== '/' && existsSync(file) ? file : join(dist, 'index.html');
      return route.fulfill({ body: readFileSync(found), contentType: TYPES[extname(found)] ?? 'application/octet-stream' });
    });
  }
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  if (session) {
    await page.goto(`${BASE}/`);
    await page.evaluate((s) => localStorage.setItem('restaurant.session', JSON.stringify(s)), session);
  }
  await page.goto(`${BASE}${path}`);
  return page;
}
const save = (page, name) => page.screenshot({ path: `${OUT}${label}-${name}.png`, fullPage: true });

try {
  const dishes = await menu();
  const customer = await newCustomer();
  const order = await placeOrder(customer, [
    { menuItemId: dishes[0].id, quantity: 2, note: 'no onions, nut allergy — '.concat('x'.repeat(60)) },
    { menuItemId: dishes[1].id },
  ]);
  for (const status of ['ACCEPTED', 'PREPARING', 'READY', 'PREPARING']) await setStatus(order.id, status);

  for (const [size, viewport] of [['phone', PHONE], ['tablet', TABLET]]) {
    const page = await open(viewport, customer, '/');
    await page.locator('.menu li button').first().waitFor();
    await save(page, `${size}-menu`);
    await fillCart(page, dishes.slice(0, 3).map((d, i) => ({ menuItemId: d.id, name: d.name, priceCents: d.priceCents, quantity: i + 1 })));
    await page.goto(`${BASE}/order/create`);
    await page.locator('ul.cart > li').first().waitFor();
    await save(page, `${size}-cart`);
    await page.goto(`${BASE}/orders/${order.id}`);
    await page.getByTestId('order-status').waitFor();
    await save(page, `${size}-order-after-recall`);
    await page.goto(`${BASE}/orders`);
    await page.locator('ul.orders > li').first().waitFor();
    await save(page, `${size}-my-orders`);
    await page.context().close();
  }
  const board = await open(TABLET, await kitchen(), '/kitchen');
  await board.locator(`article[data-order="${order.id}"]`).waitFor();
  await save(board, 'tablet-board');
  await board.context().close();
  console.log(`screenshots in ${OUT}`);
} finally {
  await browser.close();
}
