// Issue 17: the kitchen display for real, in a real Chromium against the real system — station
// tablets, the expo, and what a cook meets every day.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, KITCHEN_PASSWORD, KITCHEN_USERNAME, TABLET, fillCart, gql, kitchen, launch, menu, newCustomer, pageAt, placeOrder, setStatus, shot } from './kit.mjs';

let browser;
let dishes;
before(async () => {
  browser = await launch();
  dishes = await menu();
});
after(async () => browser?.close());

const at = (station) => dishes.find((d) => d.station === station);

/** A board signed in as the kitchen, showing `stations` (none: the expo), named `device`. */
export async function board(stations = [], device = `tablet-${stations.join('-') || 'expo'}-${Date.now()}`) {
  const page = await pageAt(browser, TABLET, await kitchen(), '/');
  await page.evaluate(([s, d]) => {
    localStorage.setItem('restaurant.kitchen.stations', JSON.stringify(s));
    localStorage.setItem('restaurant.kitchen.device', d);
  }, [stations, device]);
  await page.goto(`${BASE}/kitchen`);
  await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
  return page;
}

test('a station tablet sees only its lines; bumps on two stations make the order READY on the expo', async () => {
  const customer = await newCustomer();
  const both = await placeOrder(customer, [{ menuItemId: at('grill').id, quantity: 2 }, { menuItemId: at('cold').id }]);
  const coldOnly = await placeOrder(customer, [{ menuItemId: at('cold').id }]);
  const grill = await board(['grill']);
  const cold = await board(['cold']);
  const expo = await board();

  const onGrill = grill.locator(`article[data-order="${both.id}"]`);
  await onGrill.waitFor();
  assert.deepEqual(await onGrill.locator('li .station').allTextContents(), ['grill'], 'the grill sees its line only');
  assert.equal(await grill.locator(`article[data-order="${coldOnly.id}"]`).count(), 0, 'a cold-only order is not the grill’s');
  await cold.locator(`article[data-order="${coldOnly.id}"]`).waitFor();
  const onExpo = expo.locator(`article[data-order="${both.id}"]`);
  await onExpo.waitFor();
  assert.equal(await onExpo.locator('li').count(), 2, 'the expo sees the whole ticket');
  await shot(grill, 'kds-station-grill');

  // The grill is done: the expo sees its progress; the order waits for the cold station.
  await onGrill.getByRole('button', { name: 'Done' }).click();
  await grill.locator(`[aria-label="Done here"] article[data-order="${both.id}"]`).waitFor();
  await onExpo.locator('.station-progress.done[data-station="grill"]').waitFor();
  assert.equal(await onExpo.locator('.station-progress.waiting[data-station="cold"]').count(), 1);
  await expo.locator(`[aria-label="PLACED"] article[data-order="${both.id}"]`).waitFor();
  await shot(expo, 'kds-expo-progress');

  // The cold station too: READY, through the orders service.
  await cold.locator(`article[data-order="${both.id}"]`).getByRole('button', { name: 'Done' }).click();
  await expo.locator(`[aria-label="READY"] article[data-order="${both.id}"]`).waitFor();
  const mine = await pageAt(browser, TABLET, customer, `/orders/${both.id}`);
  await mine.getByText(/ready/i).first().waitFor();
  await shot(expo, 'kds-expo');

  // A recall on the grill sends it back to PREPARING.
  await grill.locator(`[aria-label="Done here"] article[data-order="${both.id}"]`).getByRole('button', { name: 'Recall' }).click();
  await expo.locator(`[aria-label="PREPARING"] article[data-order="${both.id}"]`).waitFor();
  await grill.locator(`[aria-label="To do"] article[data-order="${both.id}"]`).waitFor();
});

test('a tablet remembers its stations by device name, and switching to the expo shows whole tickets', async () => {
  const customer = await newCustomer();
  const both = await placeOrder(customer, [{ menuItemId: at('grill').id }, { menuItemId: at('bar').id }]);
  const device = `bar-${Date.now()}`;
  const first = await board(['bar'], device);
  await first.locator(`article[data-order="${both.id}"]`).waitFor();
  // Another browser with the same device name, saying nothing about stations: the kitchen
  // remembers the bar.
  const page = await pageAt(browser, TABLET, await kitchen(), '/');
  await page.evaluate((d) => localStorage.setItem('restaurant.kitchen.device', d), device);
  await page.goto(`${BASE}/kitchen`);
  const ticket = page.locator(`article[data-order="${both.id}"]`);
  await ticket.waitFor();
  await page.getByRole('button', { name: 'bar', pressed: true }).waitFor();
  assert.deepEqual(await ticket.locator('li .station').allTextContents(), ['bar']);
  await page.getByRole('button', { name: 'Expo' }).click();
  await page.locator(`[aria-label="PLACED"] article[data-order="${both.id}"] li`).nth(1).waitFor();
});

const cancel = (customer, id, reason) => gql('mutation($id: ID!, $r: String) { cancelOrder(orderId: $id, reason: $r) { id status cancelReason } }',
  { id, r: reason }, customer.token);

test("a customer's cancel reaches the board as a void with its reason, and their page says why", async () => {
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: at('fry').id }]);
  const expo = await board();
  await expo.locator(`article.ticket[data-order="${order.id}"]`).waitFor();
  const cancelled = await cancel(customer, order.id, 'Ordered twice by mistake');
  assert.deepEqual(cancelled.cancelOrder, { id: order.id, status: 'CANCELLED', cancelReason: 'Ordered twice by mistake' });
  const voided = expo.locator(`.voids article[data-order="${order.id}"]`);
  await voided.waitFor();
  assert.match(await voided.textContent(), /Void.*Ordered twice by mistake/s);
  assert.equal(await expo.locator(`article.ticket[data-order="${order.id}"]`).count(), 0, 'no longer a ticket to cook');
  assert.equal(await expo.locator('.kitchen').getAttribute('data-last-sound'), 'void', 'the void has its own sound');
  await shot(expo, 'kds-void');
  await voided.getByRole('button', { name: 'Clear' }).click();
  await voided.waitFor({ state: 'detached' });
  const mine = await pageAt(browser, TABLET, customer, `/orders/${order.id}`);
  await mine.getByTestId('cancel-reason').filter({ hasText: 'Ordered twice by mistake' }).waitFor();
});

test('the kitchen rejects an order with a reason: a void on the board, the reason on the customer page', async () => {
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: at('cold').id }]);
  const expo = await board();
  const ticket = expo.locator(`article.ticket[data-order="${order.id}"]`);
  await ticket.getByRole('button', { name: 'Reject' }).click();
  await ticket.getByLabel(/Why reject/).fill('Out of burrata');
  await ticket.getByRole('button', { name: 'Reject' }).click();
  await expo.locator(`.voids article[data-order="${order.id}"]`).filter({ hasText: 'Out of burrata' }).waitFor();
  const mine = await pageAt(browser, TABLET, customer, `/orders/${order.id}`);
  await mine.getByTestId('cancel-reason').filter({ hasText: 'Out of burrata' }).waitFor();
  await mine.getByTestId('order-status').and(mine.locator('[data-status="CANCELLED"]')).waitFor();
});

test('a rush goes to the top of every station list, highlighted, with its own sound', async () => {
  const customer = await newCustomer();
  const older = await placeOrder(customer, [{ menuItemId: at('grill').id }]);
  const newer = await placeOrder(customer, [{ menuItemId: at('grill').id }]);
  const grill = await board(['grill']);
  const todo = grill.locator('[aria-label="To do"] article.ticket');
  const order = async () => todo.evaluateAll((all) => all.map((a) => a.dataset.order));
  await grill.locator(`article[data-order="${newer.id}"]`).waitFor();
  const before = await order();
  assert.ok(before.indexOf(older.id) < before.indexOf(newer.id), 'oldest first');
  const expo = await board();
  await expo.locator(`article.ticket[data-order="${newer.id}"]`).getByRole('button', { name: 'Rush' }).click();
  await grill.locator(`article.rush[data-order="${newer.id}"]`).waitFor();
  assert.equal((await order())[0], newer.id, 'the rush is first on the grill');
  assert.equal(await grill.locator('.kitchen').getAttribute('data-last-sound'), 'rush');
  const highlighted = await grill.locator(`article[data-order="${newer.id}"]`).evaluate((a) => getComputedStyle(a).boxShadow);
  assert.notEqual(highlighted, 'none');
  await shot(grill, 'kds-station-rush');
  // Unmarked: back in its place.
  await expo.locator(`article.ticket[data-order="${newer.id}"]`).getByRole('button', { name: 'Rush' }).click();
  await grill.locator(`article.rush[data-order="${newer.id}"]`).waitFor({ state: 'detached' });
});

test('keys: a digit selects a ticket, Enter bumps it, R recalls; on a station B marks its lines done', async () => {
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: at('pastry').id }]);
  const expo = await board();
  const ticket = expo.locator(`article.ticket[data-order="${order.id}"]`);
  const key = (await ticket.locator('kbd').textContent().catch(() => null));
  assert.ok(key, 'the ticket shows the digit that selects it');
  await expo.keyboard.press(key);
  await expo.locator(`article.ticket.selected[data-order="${order.id}"]`).waitFor();
  await expo.keyboard.press('Enter');
  await expo.locator(`[aria-label="ACCEPTED"] article[data-order="${order.id}"]`).waitFor();
  await expo.getByRole('button', { name: 'Undo' }).waitFor({ state: 'detached' });
  await expo.locator(`[aria-label="ACCEPTED"] article[data-order="${order.id}"][aria-busy="false"]`).waitFor();

  const pastry = await board(['pastry']);
  const mine = pastry.locator(`article.ticket[data-order="${order.id}"]`);
  await pastry.keyboard.press(await mine.locator('kbd').textContent());
  await pastry.keyboard.press('b');
  await pastry.locator(`[aria-label="Done here"] article[data-order="${order.id}"]`).waitFor();
  await expo.locator(`[aria-label="READY"] article[data-order="${order.id}"]`).waitFor();
  // R on the station takes its lines back: the order leaves READY.
  await pastry.keyboard.press(await pastry.locator(`article.ticket[data-order="${order.id}"] kbd`).textContent());
  await pastry.keyboard.press('r');
  await expo.locator(`[aria-label="PREPARING"] article[data-order="${order.id}"]`).waitFor();
});

test('a handed-over ticket recalled from the expo is made again on its station and handed over again; the order stays completed', async () => {
  const customer = await newCustomer();
  const order = await placeOrder(customer, [{ menuItemId: at('grill').id }]);
  const expo = await board();
  const grill = await board(['grill']);
  for (const status of ['ACCEPTED', 'PREPARING', 'READY', 'COMPLETED']) await setStatus(order.id, status);
  // Handed over: off the board, first in the expo's list of the last handed over.
  const listed = expo.locator(`[aria-label="Handed over"] li[data-order="${order.id}"]`);
  await listed.waitFor();
  assert.equal(await expo.locator(`article.ticket[data-order="${order.id}"]`).count(), 0);
  await shot(expo, 'kds-expo-handed-over');
  // The customer brings it back: the expo recalls it, every board shows it as a remake.
  await listed.getByRole('button', { name: /^Recall .* to make it again$/ }).click();
  const remade = expo.locator(`[aria-label="PREPARING"] article.remake[data-order="${order.id}"]`);
  await remade.waitFor();
  assert.match(await remade.innerText(), /remake/i);
  // Its customer is already waiting: it goes before the tickets being prepared (rushes aside).
  const preparing = await expo.locator('[aria-label="PREPARING"] article.ticket:not(.rush)').evaluateAll((all) => all.map((a) => a.dataset.order));
  assert.equal(preparing[0], order.id, 'the remake is first');
  await listed.waitFor({ state: 'detached' });
  const onGrill = grill.locator(`[aria-label="To do"] article.remake[data-order="${order.id}"]`);
  await onGrill.getByRole('button', { name: 'Done' }).click();
  await grill.locator(`[aria-label="Done here"] article.remake[data-order="${order.id}"]`).waitFor();
  await shot(expo, 'kds-expo-remake');
  const mine = async () => (await gql('query($id: ID!) { order(id: $id) { status } }', { id: order.id }, customer.token)).order.status;
  assert.equal(await mine(), 'COMPLETED', 'the remake is the kitchen\'s: the order is not reopened');
  // Handed over again: off every board, back in the list.
  await remade.getByRole('button', { name: 'Hand over' }).click();
  await expo.locator(`article.ticket[data-order="${order.id}"]`).waitFor({ state: 'detached' });
  await grill.locator(`article.ticket[data-order="${order.id}"]`).waitFor({ state: 'detached' });
  await listed.waitFor();
  assert.equal(await mine(), 'COMPLETED');
  await Promise.all([expo, grill].map((p) => p.context().close()));
});

test('a reconnect that missed nothing shows Live again', async () => {
  let sockets = 0;
  let drop;
  const page = await pageAt(browser, TABLET, await kitchen(), '/');
  await page.routeWebSocket(/\/ws$/, (ws) => {
    sockets += 1;
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => ws.send(m));
    drop = () => ws.close({ code: 4000, reason: 'network' });
  });
  await page.goto(`${BASE}/kitchen`);
  const badge = page.getByTestId('connection');
  await badge.filter({ hasText: 'Live' }).waitFor();
  drop();
  await badge.filter({ hasText: 'Reconnecting' }).waitFor();
  await badge.filter({ hasText: 'Live' }).waitFor();
  assert.equal(sockets, 2, 'it reconnected once');
});

test('a revoked sign-in takes the board to the sign-in page instead of retrying forever', async () => {
  const login = await gql('mutation($i: LoginInput!) { login(input: $i) { token user { id username role } } }',
    { i: { username: KITCHEN_USERNAME, password: KITCHEN_PASSWORD } });
  const session = login.login;
  const page = await pageAt(browser, TABLET, session, '/kitchen');
  await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
  await gql('mutation { logout }', {}, session.token);
  await page.waitForURL(/\/login\?next=%2Fkitchen|\/login\?next=\/kitchen/);
  assert.equal(await page.evaluate(() => localStorage.getItem('restaurant.session')), null, 'the ended sign-in is forgotten');
});

test('all-day counts move with new tickets and station bumps', async () => {
  const customer = await newCustomer();
  const dessert = at('pastry');
  const expo = await board();
  const cell = expo.locator(`.all-day section[data-station="pastry"] li[data-item="${dessert.name}"] .all-day-count`);
  const count = async () => ((await cell.count()) ? Number(await cell.textContent()) : 0);
  const until = async (wanted) => {
    if (wanted === 0) await cell.waitFor({ state: 'detached' });
    else await cell.filter({ hasText: new RegExp(`^${wanted}$`) }).waitFor();
  };
  const before = await count();
  const order = await placeOrder(customer, [{ menuItemId: dessert.id, quantity: 3 }]);
  await until(before + 3);
  await shot(expo, 'kds-expo');
  const pastry = await board(['pastry']);
  await pastry.locator(`article.ticket[data-order="${order.id}"]`).getByRole('button', { name: 'Done' }).click();
  await until(before);
});

test('order type and table chosen at checkout are on the ticket and the order page; the manager sees speed', async () => {
  const customer = await newCustomer();
  const page = await pageAt(browser, TABLET, customer, '/');
  const dish = at('grill');
  await fillCart(page, [{ menuItemId: dish.id, name: dish.name, priceCents: dish.priceCents, quantity: 1 }]);
  await page.goto(`${BASE}/order/create`);
  await page.getByLabel('Take away').check();
  await page.getByLabel(/Name to call/).fill('Sam');
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.getByTestId('order-service').filter({ hasText: /Take away.*Sam/ }).waitFor();
  const id = page.url().split('/').pop();
  const grill = await board(['grill']);
  const ticket = grill.locator(`article.ticket[data-order="${id}"]`);
  assert.match(await ticket.locator('.ticket-service').textContent(), /Takeaway.*Sam/);
  await ticket.getByRole('button', { name: 'Done' }).click();
  await grill.locator(`[aria-label="Done here"] article[data-order="${id}"]`).waitFor();
  await shot(grill, 'kds-station');

  const manager = await pageAt(browser, TABLET, await kitchen(), '/kitchen/speed');
  await manager.locator('.speed-table tr[data-station="grill"]').waitFor();
  assert.ok(Number(await manager.getByTestId('speed-tickets').textContent()) >= 1);
  await manager.locator('svg.speed-chart').waitFor();
  await shot(manager, 'kds-manager');
});
