// The web UI end to end, in a real headless Chromium (Debian's), against the real system that
// ci/test starts: a customer signs up, orders, and watches the kitchen move the order along.
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
  await customer.getByLabel('Note for the kitchen').fill('no pickles');
  await shot(customer, 'phone-checkout');
  // A double click places one order (the idempotency key).
  await customer.getByRole('button', { name: 'Place order' }).dblclick();
  await customer.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  const orderId = customer.url().split('/').pop();
  assert.equal(await customer.getByTestId('order-status').textContent(), 'PLACED');
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
  await customer.getByTestId('order-status').filter({ hasText: 'READY' }).waitFor();
  await shot(customer, 'phone-order-ready');

  // Only orders placed once: the double click did not make two.
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
