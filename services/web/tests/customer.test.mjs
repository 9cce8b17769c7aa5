// Issue 21, the customer's side: each defect a customer met, as a test in a real Chromium
// against the real system (ci/test starts it).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PHONE, TABLET, fillCart, launch, menu, newCustomer, pageAt, placeOrder, setStatus, shot, unique } from './kit.mjs';

let browser;
let dishes;
before(async () => {
  browser = await launch();
  dishes = await menu();
});
after(async () => browser?.close());

const line = (dish, extra = {}) => ({ menuItemId: dish.id, name: dish.name, priceCents: dish.priceCents, quantity: 1, ...extra });
const money = (cents) => `$${(cents / 100).toFixed(2)}`;
const myOrderCount = async (customer) => {
  const response = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${customer.token}` },
    body: JSON.stringify({ query: '{ orders(first: 50) { edges { node { id } } } }' }),
  });
  return (await response.json()).data.orders.edges.length;
};

test('a reload while "Placing your order…" and a second tap make one order, not two', async () => {
  const customer = await newCustomer();
  const page = await pageAt(browser, PHONE, customer, '/');
  await fillCart(page, [line(dishes[0])]);
  await page.goto(`${BASE}/order/create`);
  // The order reaches the system, but its answer never reaches the page (a dropped connection).
  // The first attempt is held (never answered); later ones go through.
  let placed;
  let held = false;
  const reached = new Promise((resolve) => {
    page.route('**/graphql', async (route) => {
      if (held || !route.request().postData()?.includes('createOrder')) return route.continue();
      held = true;
      const answer = await route.fetch();
      placed = (await answer.json()).data.createOrder.id;
      resolve();
    });
  });
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.getByRole('button', { name: 'Placing your order…' }).waitFor();
  await reached;
  await page.reload();
  await shot(page, 'phone-checkout-after-reload');
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  assert.equal(page.url().split('/').pop(), placed, 'the second tap returned the first order');
  assert.equal(await myOrderCount(customer), 1);
});

test('a wrong password says so in plain words', async () => {
  const page = await pageAt(browser, PHONE, null, '/login');
  await page.getByLabel('Username').fill(unique('nobody'));
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /wrong username or password/i);
  assert.doesNotMatch(await alert.textContent(), /sign in again/i);
});

test('the quantity box can be cleared and retyped, refuses more than 50 out loud, and has +, − and remove', async () => {
  const dish = dishes[0];
  const page = await pageAt(browser, PHONE, await newCustomer(), '/');
  await fillCart(page, [line(dish, { quantity: 2 })]);
  await page.goto(`${BASE}/order/create`);
  await page.getByText(`${money(dish.priceCents)} each`).waitFor();
  const box = page.getByLabel(`Quantity of ${dish.name}`);
  const lines = page.locator('ul.cart > li');

  await box.fill('');
  assert.equal(await lines.count(), 1, 'clearing the box to type deletes nothing');
  await box.fill('999');
  await page.getByText('At most 50 of one dish per order.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Place order' }).isDisabled(), true);
  assert.equal(await page.evaluate(() => JSON.parse(localStorage.getItem('restaurant.cart'))[0].quantity), 2, 'nothing clamped silently');
  await shot(page, 'phone-cart-quantity-too-many');

  await box.fill('3');
  await page.getByText(money(3 * dish.priceCents), { exact: true }).first().waitFor();
  assert.equal(await page.getByText('At most 50').count(), 0);
  await page.getByRole('button', { name: `One more ${dish.name}` }).click();
  assert.equal(await box.inputValue(), '4');
  await page.getByRole('button', { name: `One fewer ${dish.name}` }).click();
  assert.equal(await box.inputValue(), '3');
  await page.getByRole('button', { name: `Remove ${dish.name}` }).click();
  await page.getByText('Your cart is empty.').waitFor();
});

test('a note is opt-in per line, multi-line, counts to its limit, and a long unbroken one wraps', async () => {
  const [first, second] = dishes;
  const customer = await newCustomer();
  const page = await pageAt(browser, PHONE, customer, '/');
  await fillCart(page, [line(first), line(second)]);
  await page.goto(`${BASE}/order/create`);
  await page.locator('ul.cart > li').nth(1).waitFor();
  assert.equal(await page.getByLabel('Note for the kitchen').count(), 0, 'no note box until asked for');
  await page.locator('ul.cart > li').first().getByRole('button', { name: 'Add note' }).click();
  const note = page.getByLabel('Note for the kitchen');
  assert.equal(await note.count(), 1, 'a note box on the one line that asked');
  assert.equal(await note.evaluate((n) => n.tagName), 'TEXTAREA');
  await note.fill('x'.repeat(250));
  assert.equal((await note.inputValue()).length, 200);
  await page.getByText('200/200 characters').waitFor();
  await shot(page, 'phone-cart-note-limit');
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  await page.getByText('x'.repeat(40), { exact: false }).first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the order page is ${overflow}px wider than the phone`);
  await shot(page, 'phone-order-long-note');
});

test('after a recall the timeline un-ticks "ready"; a cancel asks first and looks cancelled', async () => {
  const customer = await newCustomer();
  const recalled = await placeOrder(customer, [{ menuItemId: dishes[0].id }]);
  for (const status of ['ACCEPTED', 'PREPARING', 'READY', 'PREPARING']) await setStatus(recalled.id, status);
  const page = await pageAt(browser, PHONE, customer, `/orders/${recalled.id}`);
  await page.locator('[data-testid="order-status"][data-status="PREPARING"]').waitFor();
  const step = (name) => page.locator('ol.timeline > li').filter({ hasText: new RegExp(`^\\W*${name}`, 'i') });
  assert.equal(await step('preparing').getAttribute('class'), 'done');
  assert.notEqual(await step('ready').getAttribute('class'), 'done', '"ready" is not ticked after a recall');
  assert.match(await page.getByTestId('order-status').textContent(), /prepared/i);
  await shot(page, 'phone-order-recalled');

  const order = await placeOrder(customer, [{ menuItemId: dishes[0].id }]);
  await page.goto(`${BASE}/orders/${order.id}`);
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.getByRole('button', { name: 'Keep my order' }).click();
  assert.equal(await page.getByTestId('order-status').getAttribute('data-status'), 'PLACED', 'one tap cancels nothing');
  await page.getByRole('button', { name: 'Cancel order' }).click();
  await page.getByRole('button', { name: 'Yes, cancel it' }).click();
  await page.locator('[data-testid="order-status"][data-status="CANCELLED"]').waitFor();
  const colour = (locator) => locator.evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.notEqual(await colour(step('cancelled')), await colour(step('received')), 'cancelled is not styled as done');
  assert.notEqual(await step('cancelled').getAttribute('class'), 'done');
  await shot(page, 'phone-order-cancelled');
});

test('an error banner goes away when the next load succeeds', async () => {
  const page = await pageAt(browser, PHONE, null, '/');
  await page.getByRole('button', { name: /^Add .* to cart$/ }).first().waitFor();
  await page.route('**/graphql', (route) => route.abort('connectionreset'));
  await page.getByRole('button', { name: 'Drinks' }).click();
  await page.getByRole('alert').waitFor();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.getByRole('button', { name: 'Everything' }).click();
  await page.getByRole('button', { name: /^Add .* to cart$/ }).first().waitFor();
  await page.getByRole('alert').waitFor({ state: 'detached' });
});

test('the "added to your cart" notice does not move the list under the finger', async () => {
  const page = await pageAt(browser, PHONE, null, '/');
  const buttons = page.getByRole('button', { name: /^Add .* to cart$/ });
  await buttons.nth(1).waitFor();
  const before = await buttons.nth(1).boundingBox();
  await buttons.first().click();
  await page.getByRole('status').filter({ hasText: 'added to your cart' }).waitFor();
  const afterAdd = await buttons.nth(1).boundingBox();
  assert.deepEqual(afterAdd, before);
  await shot(page, 'phone-menu-added');
});

test('signing up from the cart comes back to the cart', async () => {
  const page = await pageAt(browser, PHONE, null, '/');
  await fillCart(page, [line(dishes[0])]);
  await page.goto(`${BASE}/order/create`);
  await page.getByRole('link', { name: 'create an account' }).click();
  await page.getByLabel('Username').fill(unique('cart'));
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${BASE}/order/create`);
  await page.getByRole('button', { name: 'Place order' }).waitFor();
});

test("Back after signing out never shows the previous user's orders", async () => {
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: dishes[0].id }]);
  // Menu → My orders → the order, inside one document (the app's own history entries).
  const page = await pageAt(browser, PHONE, customer, '/');
  await page.getByRole('link', { name: 'My orders' }).click();
  await page.locator(`ul.orders > li[data-order="${order.id}"] a`).click();
  await page.getByTestId('order-status').waitFor();
  await page.getByRole('button', { name: /^Sign out/ }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  for (let back = 0; back < 2; back += 1) {
    await page.goBack();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    assert.equal(await page.locator('ul.orders > li').count(), 0);
    assert.equal(await page.getByTestId('order-status').count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Sign out/ }).count(), 0);
  }
  assert.equal(await page.evaluate(() => localStorage.getItem('restaurant.session')), null);
});

test('every page has its own title, and the favicon is an icon', async () => {
  const page = await pageAt(browser, PHONE, null, '/');
  const titles = new Set();
  for (const path of ['/', '/login', '/signup', '/order/create', '/orders', '/kitchen', '/no-such-page']) {
    await page.goto(`${BASE}${path}`);
    await page.locator('h1').first().waitFor();
    await page.waitForFunction(() => document.title !== 'Restaurant');
    titles.add(await page.title());
  }
  assert.equal(titles.size, 7, [...titles].join(' | '));
  const icon = await page.locator('link[rel="icon"]').getAttribute('href');
  const answer = await fetch(new URL(icon, BASE));
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get('content-type'), /^image\//);
  const ico = await fetch(`${BASE}/favicon.ico`);
  assert.doesNotMatch(ico.headers.get('content-type') ?? '', /text\/html/, '/favicon.ico is not the page');
});

test('"My orders" follows the kitchen live, with statuses in words', async () => {
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: dishes[0].id }]);
  const page = await pageAt(browser, TABLET, customer, '/');
  // The page has asked to follow this order (the subscribe frame on its socket).
  const following = new Promise((resolve) => page.on('websocket', (socket) => socket.on('framesent', (frame) => {
    if (String(frame.payload).includes('"subscribe"') && String(frame.payload).includes(order.id)) resolve();
  })));
  await page.goto(`${BASE}/orders`);
  const row = page.locator(`ul.orders > li[data-order="${order.id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /received/i);
  await following;
  for (const status of ['ACCEPTED', 'PREPARING', 'READY']) await setStatus(order.id, status);
  await row.getByText('Ready to collect').waitFor();
  await shot(page, 'tablet-my-orders-live');
});
