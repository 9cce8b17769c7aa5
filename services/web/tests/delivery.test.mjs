// Issue 21: how the gateway delivers the web UI (compressed, cached by kind, no public source
// maps), and every page checked by axe-core (no serious or critical violations) and reachable
// by keyboard.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PHONE, TABLET, fillCart, kitchen, launch, menu, newCustomer, pageAt, placeOrder, seriousViolations, shot } from './kit.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

/** The page's own script and style sheet (hashed names, from index.html). */
async function assets() {
  const html = await (await fetch(`${BASE}/`)).text();
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
}

test('scripts and styles come compressed and cached for good; the page is never stored; no source maps', async () => {
  const files = await assets();
  assert.ok(files.some((f) => f.endsWith('.js')) && files.some((f) => f.endsWith('.css')), files.join(', '));
  for (const file of files) {
    for (const [accept, encoding] of [['gzip, deflate, br', 'br'], ['gzip', 'gzip']]) {
      const response = await fetch(`${BASE}${file}`, { headers: { 'accept-encoding': accept } });
      assert.equal(response.status, 200, file);
      assert.equal(response.headers.get('content-encoding'), encoding, `${file} with ${accept}`);
      assert.match(response.headers.get('cache-control'), /immutable/, file);
      assert.match(response.headers.get('cache-control'), /max-age=31536000/, file);
    }
    const map = await fetch(`${BASE}${file}.map`);
    assert.equal(map.status, 404, `${file}.map is public`);
    if (file.endsWith('.js')) {
      const body = await (await fetch(`${BASE}${file}`)).text();
      assert.doesNotMatch(body, /sourceMappingURL/);
    }
  }
  const page = await fetch(`${BASE}/orders`, { headers: { 'accept-encoding': 'br' } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.match(page.headers.get('cache-control'), /no-store/);
});

test('every page: no serious or critical accessibility violations (axe-core), and the keyboard reaches the actions', async () => {
  const dishes = await menu();
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: dishes[0].id, note: 'no onions' }]);
  const problems = [];
  const check = async (page, name) => {
    for (const violation of await seriousViolations(page)) problems.push(`${name}: ${violation}`);
  };

  const guest = await pageAt(browser, PHONE, null, '/');
  await guest.getByRole('button', { name: /^Add .* to cart$/ }).first().waitFor();
  await check(guest, 'menu');
  for (const path of ['/login', '/signup', '/orders', '/kitchen', '/no-such-page']) {
    await guest.goto(`${BASE}${path}`);
    await guest.locator('h1').first().waitFor();
    await check(guest, path);
  }

  const page = await pageAt(browser, PHONE, customer, '/');
  await fillCart(page, [{ menuItemId: dishes[0].id, name: dishes[0].name, priceCents: dishes[0].priceCents, quantity: 1 }]);
  await page.goto(`${BASE}/order/create`);
  await page.getByRole('button', { name: 'Add note' }).click();
  await check(page, 'cart');
  // The keyboard alone reaches "Place order" from the top of the page.
  await page.goto(`${BASE}/order/create`);
  let reached = false;
  for (let tab = 0; tab < 30 && !reached; tab += 1) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.textContent === 'Place order');
  }
  assert.ok(reached, 'Tab never reaches "Place order"');
  await page.goto(`${BASE}/orders/${order.id}`);
  await page.getByTestId('order-status').waitFor();
  await check(page, 'order');
  await page.goto(`${BASE}/orders`);
  await page.locator('ul.orders > li').first().waitFor();
  await check(page, 'my orders');

  const board = await pageAt(browser, TABLET, await kitchen(), '/kitchen');
  await board.locator(`article[data-order="${order.id}"]`).waitFor();
  await check(board, 'board');
  await board.goto(`${BASE}/kitchen/speed`);
  await board.locator('.speed-totals').waitFor();
  await check(board, 'speed of service');
  await board.goto(`${BASE}/ticket/${order.id}`);
  await board.getByRole('heading', { name: /Ticket #/ }).waitFor();
  await check(board, 'ticket');
  await shot(board, 'tablet-ticket-page');

  assert.deepEqual(problems, []);
});
