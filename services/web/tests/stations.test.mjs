// Issue 17: the kitchen display for real, in a real Chromium against the real system — station
// tablets, the expo, and what a cook meets every day.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, TABLET, kitchen, launch, menu, newCustomer, pageAt, placeOrder, shot } from './kit.mjs';

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
