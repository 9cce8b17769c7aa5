// Issue 20, the customer's promise: dishes the kitchen 86es show sold out on open pages and
// cannot be ordered; the order page never goes stale when its socket drops.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, DEADLINE, PHONE, TABLET, fillCart, gql, kitchen, launch, menu, newCustomer, pageAt, placeOrder, setStatus, shot } from './kit.mjs';

let browser;
let dishes;
before(async () => {
  browser = await launch();
  dishes = await menu();
});
after(async () => browser?.close());

const line = (dish) => ({ menuItemId: dish.id, name: dish.name, priceCents: dish.priceCents, quantity: 1 });

test("a dish 86ed on the board shows sold out on an open menu and cart, and cannot be ordered", async () => {
  // The last dish of the menu: the other test files order the first ones.
  const dish = dishes[dishes.length - 1];
  const customer = await newCustomer();
  const menuPage = await pageAt(browser, PHONE, customer, '/');
  await menuPage.getByRole('button', { name: `Add ${dish.name} to cart` }).waitFor();
  const cartPage = await pageAt(browser, PHONE, customer, '/');
  await fillCart(cartPage, [line(dish)]);
  await cartPage.goto(`${BASE}/order/create`);
  await cartPage.getByRole('button', { name: 'Place order' }).waitFor();

  const board = await pageAt(browser, TABLET, await kitchen(), '/kitchen');
  await board.getByRole('button', { name: 'Sold out (86)' }).click();
  await board.getByRole('button', { name: `Mark ${dish.name} sold out` }).click();
  await board.getByRole('button', { name: `${dish.name} is back` }).waitFor();
  await shot(board, 'tablet-board-sold-out');
  try {
    // Without a reload: the open menu and the open cart hear of it.
    await menuPage.getByRole('button', { name: `Sold out: ${dish.name}` }).waitFor();
    assert.equal(await menuPage.getByRole('button', { name: `Sold out: ${dish.name}` }).isDisabled(), true);
    await cartPage.getByTestId('sold-out').waitFor();
    assert.match(await cartPage.getByTestId('sold-out').innerText(), new RegExp(`Sold out now: ${dish.name}`));
    assert.equal(await cartPage.getByRole('button', { name: 'Place order' }).isDisabled(), true);
    await shot(cartPage, 'phone-checkout-sold-out');
    await assert.rejects(placeOrder(customer, [{ menuItemId: dish.id }]), (e) => {
      assert.equal(e.code, 'BAD_USER_INPUT');
      assert.match(e.message, new RegExp(`${dish.name} is sold out`));
      return true;
    });
  } finally {
    await board.getByRole('button', { name: `${dish.name} is back` }).click();
  }
  // Back on: both pages say so without a reload, and the cart can be ordered again.
  await menuPage.getByRole('button', { name: `Add ${dish.name} to cart` }).waitFor();
  await cartPage.getByTestId('sold-out').waitFor({ state: 'detached' });
  assert.equal(await cartPage.getByRole('button', { name: 'Place order' }).isDisabled(), false);
  await Promise.all([menuPage, cartPage, board].map((p) => p.context().close()));
});

test('the order page says it is reconnecting when its socket is cut, and catches up when it is back', async () => {
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: dishes[0].id }]);
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  page.setDefaultTimeout(DEADLINE);
  // Every GraphQL socket of the page passes through here: the test cuts them, and refuses new
  // ones while `away` (the network is gone), as a phone going through a tunnel would see.
  const sockets = [];
  let away = false;
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    if (away) return ws.close({ code: 1012, reason: 'the network is away' });
    const server = ws.connectToServer();
    sockets.push({ ws, server });
  });
  await page.goto(`${BASE}/favicon.svg`);
  await page.evaluate((s) => localStorage.setItem('restaurant.session', JSON.stringify(s)), customer);
  await page.goto(`${BASE}/orders/${order.id}`);
  const status = page.getByTestId('order-status');
  await page.locator('[data-testid="order-status"][data-status="PLACED"]').waitFor();
  // Live before the cut: a change arrives without a reload.
  await setStatus(order.id, 'ACCEPTED');
  await page.locator('[data-testid="order-status"][data-status="ACCEPTED"]').waitFor();

  away = true;
  for (const { ws, server } of sockets.splice(0)) {
    // Both ends, as a dropped network does (closing one may already have closed the other).
    await server.close({ code: 1012, reason: 'cut by the test' }).catch(() => undefined);
    await ws.close({ code: 1012, reason: 'cut by the test' }).catch(() => undefined);
  }
  await page.getByTestId('reconnecting').waitFor();
  await shot(page, 'phone-order-reconnecting');
  // A change while the page is away: no event can reach it.
  await setStatus(order.id, 'PREPARING');
  assert.equal(await status.getAttribute('data-status'), 'ACCEPTED', 'the page cannot know yet');

  away = false;
  // Back: the page subscribes again and reloads the order, so the change made while it was
  // away shows, and it stops saying it is reconnecting.
  await page.locator('[data-testid="order-status"][data-status="PREPARING"]').waitFor();
  await page.getByTestId('reconnecting').waitFor({ state: 'detached' });
  // And it is live again: the next change arrives by itself.
  await setStatus(order.id, 'READY');
  await page.locator('[data-testid="order-status"][data-status="READY"]').waitFor();
  await shot(page, 'phone-order-caught-up');
  await context.close();
});

/** A dish of the stove, which no other test orders: the queue there is this file's alone. */
async function stoveDish() {
  const data = await gql('{ menuItems(first: 100) { edges { node { id name priceCents station prepMinutes available } } } }');
  return data.menuItems.edges.map((e) => e.node).find((d) => d.station === 'stove' && d.available);
}
const minutes = (a, b) => (Date.parse(a) - Date.parse(b)) / 60_000;

test('the cart shows when the order would be ready before it is placed', async () => {
  const dish = await stoveDish();
  const customer = await newCustomer();
  const page = await pageAt(browser, PHONE, customer, '/');
  await fillCart(page, [line(dish)]);
  const asked = Date.now();
  await page.goto(`${BASE}/order/create`);
  const estimate = page.getByTestId('estimate');
  await estimate.waitFor();
  const at = await estimate.getAttribute('data-ready-by');
  // At least the dish's prep minutes from now (more when the stove has a queue).
  assert.ok(Date.parse(at) >= asked + (dish.prepMinutes - 1) * 60_000, `${at} is not ${dish.prepMinutes} minutes away`);
  assert.match(await estimate.innerText(), /ready by about \d\d:\d\d/);
  await shot(page, 'phone-checkout-estimate');
  await page.context().close();
});

test('the ready-by time on the order page moves earlier when a ticket ahead is bumped, and later when the queue grows', async () => {
  const dish = await stoveDish();
  const customer = await newCustomer();
  const ahead = await placeOrder(customer, [{ menuItemId: dish.id }]);
  const mine = await placeOrder(customer, [{ menuItemId: dish.id }]);
  const page = await pageAt(browser, PHONE, customer, `/orders/${mine.id}`);
  const readyBy = page.getByTestId('ready-by');
  await readyBy.waitFor();
  // Behind the order ahead at the stove's one cook.
  const behind = await page.waitForFunction(
    (prep) => {
      const at = document.querySelector('[data-testid="ready-by"]')?.getAttribute('data-ready-by');
      return at && Date.parse(at) > Date.now() + (2 * prep - 2) * 60_000 ? at : null;
    }, dish.prepMinutes).then((h) => h.jsonValue());
  assert.match(await readyBy.innerText(), /Ready by \d\d:\d\d/);
  await shot(page, 'phone-order-ready-by');

  // The order ahead is made and bumped: this one is next, so its promise moves earlier, live.
  for (const status of ['ACCEPTED', 'PREPARING', 'READY']) await setStatus(ahead.id, status);
  const earlier = await page.waitForFunction(
    (before) => {
      const at = document.querySelector('[data-testid="ready-by"]')?.getAttribute('data-ready-by');
      return at && Date.parse(at) < Date.parse(before) - 5 * 60_000 ? at : null;
    }, behind).then((h) => h.jsonValue());
  assert.ok(minutes(behind, earlier) >= dish.prepMinutes - 2, `${behind} → ${earlier}`);
  await shot(page, 'phone-order-ready-by-earlier');

  // The order ahead is recalled (back to the stove): the queue grows, the promise moves later.
  await setStatus(ahead.id, 'PREPARING');
  const later = await page.waitForFunction(
    (before) => {
      const at = document.querySelector('[data-testid="ready-by"]')?.getAttribute('data-ready-by');
      return at && Date.parse(at) > Date.parse(before) + 5 * 60_000 ? at : null;
    }, earlier).then((h) => h.jsonValue());
  assert.ok(minutes(later, earlier) >= dish.prepMinutes - 2, `${earlier} → ${later}`);
  await setStatus(ahead.id, 'READY');
  await page.context().close();
});
