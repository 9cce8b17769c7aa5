// Issue 21, the kitchen's side: the board in a real Chromium against the real system.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, DEADLINE, TABLET, kitchen, launch, menu, newCustomer, pageAt, placeOrder, shot } from './kit.mjs';

let browser;
let dishes;
before(async () => {
  browser = await launch();
  dishes = await menu();
});
after(async () => browser?.close());

const boardPage = async (options = {}) => {
  const page = await pageAt(browser, TABLET, await kitchen(), '/');
  if (options.clock) await page.clock.setFixedTime(options.clock);
  if (options.ws) await page.routeWebSocket(/\/ws$/, options.ws);
  await page.goto(`${BASE}/kitchen`);
  await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
  return page;
};

test("a cook's double tap shows plain words, not the server's, and the message goes away", async () => {
  const order = await placeOrder(await newCustomer(), [{ menuItemId: dishes[0].id }]);
  // Whatever the page does against double taps, the kitchen here receives every bump twice.
  const page = await boardPage({
    ws: (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        server.send(message);
        if (String(message).includes('"bump"')) server.send(message);
      });
    },
  });
  const ticket = page.locator(`article[data-order="${order.id}"]`);
  await ticket.getByRole('button', { name: 'Accept' }).click();
  await page.locator(`[aria-label="ACCEPTED"] article[data-order="${order.id}"]`).waitFor();
  const message = page.getByRole('alert');
  await message.waitFor();
  assert.doesNotMatch(await message.textContent(), /cannot go from|ACCEPTED/);
  assert.match(await message.textContent(), /already moved on/);
  await shot(page, 'tablet-board-double-tap');
  await message.waitFor({ state: 'detached', timeout: DEADLINE });
});

test('a ticket placed "in the future" by a tablet whose clock is behind never shows a negative age', async () => {
  const order = await placeOrder(await newCustomer(), [{ menuItemId: dishes[0].id }]);
  const page = await boardPage({ clock: Date.now() - 5 * 60_000 });
  const age = page.locator(`article[data-order="${order.id}"] .age`);
  await age.waitFor();
  assert.doesNotMatch(await age.textContent(), /-/);
});

test("a ticket's age moves on by itself, and the ticket turns to late colours as it ages", async () => {
  const order = await placeOrder(await newCustomer(), [{ menuItemId: dishes[0].id }]);
  const page = await pageAt(browser, TABLET, await kitchen(), '/');
  // The page's timers run on a clock the test moves (the board has one ticker for all ages).
  await page.clock.install();
  await page.goto(`${BASE}/kitchen`);
  await page.getByTestId('connection').filter({ hasText: 'Live' }).waitFor();
  const ticket = page.locator(`article[data-order="${order.id}"]`);
  await ticket.waitFor();
  assert.equal(await ticket.locator('.age').textContent(), 'new');
  assert.match(await ticket.getAttribute('class'), /age-ok/);
  await page.clock.fastForward('08:30');
  await page.locator(`article[data-order="${order.id}"].age-warn`).waitFor();
  assert.equal(await ticket.locator('.age').textContent(), '8 min');
  await page.clock.fastForward('07:00');
  await page.locator(`article[data-order="${order.id}"].age-late`).waitFor();
  assert.equal(await ticket.locator('.age').textContent(), '15 min');
  await page.context().close();
});

test('the board: long notes stay in their ticket, loud; new tickets in sight; a fixed connection badge', async () => {
  const customer = await newCustomer();
  const note = 'N'.repeat(200);
  const order = await placeOrder(customer, [{ menuItemId: dishes[0].id, note }, { menuItemId: dishes[1].id }]);
  const page = await boardPage();
  const ticket = page.locator(`article[data-order="${order.id}"]`);
  await ticket.waitFor();
  const fits = await ticket.evaluate((t) => {
    const column = t.closest('.column');
    return { ticket: t.scrollWidth <= t.clientWidth, column: column.scrollWidth <= column.clientWidth };
  });
  assert.deepEqual(fits, { ticket: true, column: true }, 'a note without spaces runs out of its ticket');
  const sizes = await ticket.evaluate((t) => {
    const px = (e) => parseFloat(getComputedStyle(e).fontSize);
    const weight = (e) => Number(getComputedStyle(e).fontWeight);
    const note = t.querySelector('.ticket-note');
    return { item: px(t.querySelector('li')), note: px(note), noteWeight: weight(note), itemWeight: weight(t.querySelector('li')) };
  });
  assert.ok(sizes.item >= 20, `items at ${sizes.item}px are not readable at arm's length`);
  assert.ok(sizes.noteWeight > sizes.itemWeight, 'a note is louder than an item');
  // The newest ticket is in view without scrolling, however many are waiting.
  assert.ok(await ticket.isVisible());
  const inView = await ticket.evaluate((t) => {
    const box = t.getBoundingClientRect();
    return box.top >= 0 && box.top < window.innerHeight;
  });
  assert.ok(inView, 'the newest ticket is out of sight');
  const badge = page.getByTestId('connection');
  assert.equal(await badge.evaluate((b) => getComputedStyle(b).position), 'fixed');
  await shot(page, 'tablet-board');
});

test('a mistaken Accept can be undone for a few seconds, and then it is never sent', async () => {
  const customer = await newCustomer();
  const mistaken = await placeOrder(customer, [{ menuItemId: dishes[0].id }]);
  const meant = await placeOrder(customer, [{ menuItemId: dishes[1].id }]);
  const bumps = [];
  const page = await boardPage({
    ws: (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const command = JSON.parse(String(message));
        if (command.type === 'bump') bumps.push(command.orderId);
        server.send(message);
      });
    },
  });
  const column = (status, order) => page.locator(`[aria-label="${status}"] article[data-order="${order.id}"]`);
  await column('PLACED', mistaken).getByRole('button', { name: 'Accept' }).click();
  await column('ACCEPTED', mistaken).waitFor();
  await shot(page, 'tablet-board-undo');
  await page.getByRole('button', { name: 'Undo' }).click();
  await column('PLACED', mistaken).waitFor();
  // A later tap on another ticket goes through; by then the undone one would have been sent first.
  await column('PLACED', meant).getByRole('button', { name: 'Accept' }).click();
  await page.getByRole('button', { name: 'Undo' }).waitFor();
  await page.getByRole('button', { name: 'Undo' }).waitFor({ state: 'detached' });
  // Sent, and answered by the kitchen (no longer busy).
  await page.locator(`[aria-label="ACCEPTED"] article[data-order="${meant.id}"][aria-busy="false"]`).waitFor();
  assert.deepEqual(bumps, [meant.id]);
  assert.equal(await column('PLACED', mistaken).count(), 1);
});

test('an order has a short number of the day, the same on the board and the customer page', async () => {
  const customer = await newCustomer();
  const first = await placeOrder(customer, [{ menuItemId: dishes[0].id }]);
  const second = await placeOrder(customer, [{ menuItemId: dishes[0].id }]);
  assert.ok(first.number >= 1 && second.number > first.number, `${first.number}, ${second.number}`);
  const said = `#${String(second.number).padStart(3, '0')}`;
  const page = await boardPage();
  const ticket = page.locator(`article[data-order="${second.id}"]`);
  await ticket.waitFor();
  assert.equal((await ticket.locator('.ticket-number').textContent()).trim(), said);
  const mine = await pageAt(browser, TABLET, customer, `/orders/${second.id}`);
  await mine.getByTestId('order-number').filter({ hasText: said }).waitFor();
});
