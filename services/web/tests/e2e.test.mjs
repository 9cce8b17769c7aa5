// The web UI end to end, in a real headless Chromium (Debian's), against the real system that
// ci/test starts: a customer signs up, orders, and watches the kitchen move the order along; a
// double click sends one order (the page's guard) and a retry after a lost answer places none
// more (the idempotency key); the orders page filters by status.
// Screenshots of every page land in test-results/ (phone and tablet sizes).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.WEB_BASE_URL ?? 'http://127.0.0.1:8082';
const KITCHEN_USERNAME = process.env.KITCHEN_USERNAME ?? 'kitchen';
const KITCHEN_PASSWORD = process.env.KITCHEN_PASSWORD ?? 'kitchen-local';
const SHOTS = new URL('../test-results/', import.meta.url).pathname;
const PHONE = { width: 390, height: 844 };
const TABLET = { width: 1280, height: 800 };
/** How long anything may take to appear; passing runs never wait this long. */
const DEADLINE = 20_000;

let browser;
before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
after(async () => browser?.close());

const shot = (page, name) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

/** The bodies of the createOrder requests `page` sends from now on. */
function createOrderRequests(page) {
  const bodies = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && (request.postData() ?? '').includes('createOrder')) bodies.push(request.postDataJSON());
  });
  return bodies;
}

/** A new customer, signed up through the page (which then keeps their token). */
async function signUp(page, prefix) {
  await page.goto(`${BASE}/signup`);
  await page.getByLabel('Username').fill(`${prefix}${Date.now().toString(36)}`);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Menu' }).waitFor();
}

/** A GraphQL request as the page's signed-in user, with the token the page keeps. */
function asPageUser(page, query, variables = {}) {
  return page.evaluate(async ([query, variables]) => {
    const { token } = JSON.parse(localStorage.getItem('restaurant.session'));
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  }, [query, variables]);
}

/** Waits until the orders page lists exactly these statuses, top to bottom. */
async function listedStatuses(page, expected) {
  // The badge says the status in words; its code is in data-status.
  const read = () => page.locator('ul.orders > li [data-status]').evaluateAll((els) => els.map((e) => e.dataset.status));
  try {
    await page.waitForFunction(
      (want) => JSON.stringify([...document.querySelectorAll('ul.orders > li [data-status]')].map((e) => e.dataset.status)) === JSON.stringify(want),
      expected,
      { timeout: DEADLINE },
    );
  } catch {
    assert.deepEqual(await read(), expected);
  }
}

test('a customer orders and follows it live while the kitchen moves it along', async () => {
  const customer = await (await browser.newContext({ viewport: PHONE })).newPage();
  customer.setDefaultTimeout(DEADLINE);
  const username = `guest${Date.now().toString(36)}`;

  await customer.goto(`${BASE}/signup`);
  await shot(customer, 'phone-signup');
  await customer.getByLabel('Username').fill(username);
  await customer.getByLabel('Password').fill('correct horse battery');
  await customer.getByRole('button', { name: 'Sign up' }).click();
  await customer.getByRole('heading', { name: 'Menu' }).waitFor();
  await customer.getByRole('button', { name: 'Mains' }).click();
  await customer.getByRole('button', { name: /^Add .* to cart$/ }).first().waitFor();
  await shot(customer, 'phone-menu');
  await customer.getByRole('button', { name: /^Add .* to cart$/ }).first().click();
  await customer.getByRole('status').waitFor();
  // The cart survives a reload.
  await customer.reload();
  await customer.getByRole('link', { name: 'Cart (1)' }).click();
  await customer.getByRole('button', { name: 'Add note' }).click();
  await customer.getByLabel('Note for the kitchen').fill('no pickles');
  await shot(customer, 'phone-checkout');
  // A double click sends one createOrder: the page's own busy guard (what the server's
  // idempotency key does is the next test's).
  const creates = createOrderRequests(customer);
  await customer.getByRole('button', { name: 'Place order' }).dblclick();
  await customer.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  assert.equal(creates.length, 1, 'a double click sent createOrder more than once');
  const orderId = customer.url().split('/').pop();
  assert.equal(await customer.getByTestId('order-status').getAttribute('data-status'), 'PLACED');
  await shot(customer, 'phone-order-placed');

  const kitchen = await (await browser.newContext({ viewport: TABLET })).newPage();
  kitchen.setDefaultTimeout(DEADLINE);
  await kitchen.goto(`${BASE}/login`);
  await kitchen.getByLabel('Username').fill(KITCHEN_USERNAME);
  await kitchen.getByLabel('Password').fill(KITCHEN_PASSWORD);
  await kitchen.getByRole('button', { name: 'Sign in' }).click();
  const ticket = kitchen.locator(`article[data-order="${orderId}"]`);
  await ticket.waitFor();
  assert.match(await ticket.textContent(), /no pickles/);
  await shot(kitchen, 'tablet-kitchen-new-ticket');
  for (const [button, column] of [['Accept', 'ACCEPTED'], ['Start', 'PREPARING'], ['Ready', 'READY']]) {
    await ticket.getByRole('button', { name: button }).click();
    await kitchen.locator(`[aria-label="${column}"] article[data-order="${orderId}"]`).waitFor();
  }
  await shot(kitchen, 'tablet-kitchen-ready');

  // The customer's page followed without a reload.
  await customer.locator('[data-testid="order-status"][data-status="READY"]').waitFor();
  await shot(customer, 'phone-order-ready');

  // One order: the double click did not make two.
  await customer.goto(`${BASE}/orders`);
  await customer.locator('ul.orders > li').first().waitFor();
  assert.equal(await customer.locator('ul.orders > li').count(), 1);
  await shot(customer, 'phone-orders');

  await kitchen.goto(`${BASE}/ticket/${orderId}`);
  await kitchen.getByRole('heading', { name: /Ticket #/ }).waitFor();
  await shot(kitchen, 'tablet-ticket');
});

test('a customer cannot open the kitchen board', async () => {
  const page = await (await browser.newContext({ viewport: PHONE })).newPage();
  page.setDefaultTimeout(DEADLINE);
  await page.goto(`${BASE}/signup`);
  await page.getByLabel('Username').fill(`nosy${Date.now().toString(36)}`);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Menu' }).waitFor();
  await page.goto(`${BASE}/kitchen`);
  await page.getByText('The kitchen board is for kitchen staff.').waitFor();
  assert.equal(await page.locator('article.ticket').count(), 0);
  await shot(page, 'phone-kitchen-refused');
});

test('an order whose answer was lost is placed once when the customer tries again', async () => {
  const page = await (await browser.newContext({ viewport: PHONE })).newPage();
  page.setDefaultTimeout(DEADLINE);
  await signUp(page, 'retry');
  await page.getByRole('button', { name: /^Add .* to cart$/, disabled: false }).first().click();
  await page.getByRole('link', { name: 'Cart (1)' }).click();

  // The first createOrder reaches the server and is placed, but its answer never arrives.
  const creates = createOrderRequests(page);
  let placed = null;
  await page.route('**/graphql', async (route) => {
    if (placed !== null || !(route.request().postData() ?? '').includes('createOrder')) return route.continue();
    const answer = await (await route.fetch()).json();
    placed = answer.data.createOrder.id;
    await route.abort('connectionreset');
  });
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.getByRole('alert').waitFor();
  assert.match(placed ?? '', /^[0-9a-f-]{36}$/, 'the lost request placed an order');
  await shot(page, 'phone-checkout-lost-answer');

  // The customer tries again (the button now says so): the same key, so the server answers
  // with the first order.
  await page.locator('button.primary', { hasText: /^(Place order|Try again)$/ }).click();
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  assert.equal(page.url().split('/').pop(), placed, 'the retry placed a second order');
  assert.equal(creates.length, 2);
  assert.ok(creates[0].variables.i.idempotencyKey, 'the page sends an idempotency key');
  assert.equal(creates[1].variables.i.idempotencyKey, creates[0].variables.i.idempotencyKey);
  const mine = await asPageUser(page, '{ orders { edges { node { id } } } }');
  assert.deepEqual(mine.data.orders.edges.map((e) => e.node.id), [placed]);
});

test('the orders page shows the orders in the status the customer picks', async () => {
  const page = await (await browser.newContext({ viewport: PHONE })).newPage();
  page.setDefaultTimeout(DEADLINE);
  await signUp(page, 'filter');
  const menu = await asPageUser(page, '{ menuItems(first: 50) { edges { node { id available } } } }');
  const item = menu.data.menuItems.edges.map((e) => e.node).find((n) => n.available).id;
  const create = 'mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }';
  const ids = [];
  for (let i = 0; i < 3; i += 1) {
    const answer = await asPageUser(page, create, { i: { items: [{ menuItemId: item, quantity: 1 }] } });
    ids.push(answer.data.createOrder.id);
  }
  const cancelled = await asPageUser(page, 'mutation($id: ID!) { cancelOrder(orderId: $id) { status } }', { id: ids[1] });
  assert.equal(cancelled.data.cancelOrder.status, 'CANCELLED');

  await page.goto(`${BASE}/orders`);
  await listedStatuses(page, ['PLACED', 'CANCELLED', 'PLACED']);
  const show = page.getByLabel('Show');
  await show.selectOption('CANCELLED');
  await listedStatuses(page, ['CANCELLED']);
  assert.equal(await page.locator('ul.orders > li a').getAttribute('href'), `/orders/${ids[1]}`);
  await shot(page, 'phone-orders-cancelled');
  await show.selectOption('PLACED');
  await listedStatuses(page, ['PLACED', 'PLACED']);
  await show.selectOption('READY');
  await listedStatuses(page, []);
  await page.getByText('No orders with that status.').waitFor();
  await show.selectOption('ALL');
  await listedStatuses(page, ['PLACED', 'CANCELLED', 'PLACED']);
});
