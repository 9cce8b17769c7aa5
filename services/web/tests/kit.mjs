// What the issue-21 browser tests share: Debian's Chromium, the real gateway's GraphQL API
// (customers and orders made through it, so a test spends its time on what it checks), pages
// signed in as a customer or the kitchen, axe-core, and screenshots in test-results/.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const BASE = process.env.WEB_BASE_URL ?? 'http://127.0.0.1:8082';
export const KITCHEN_USERNAME = process.env.KITCHEN_USERNAME ?? 'kitchen';
export const KITCHEN_PASSWORD = process.env.KITCHEN_PASSWORD ?? 'kitchen-local';
export const SHOTS = new URL('../test-results/', import.meta.url).pathname;
export const PHONE = { width: 390, height: 844 };
export const TABLET = { width: 1024, height: 768 };
/** How long anything may take to appear; passing runs never wait this long. */
export const DEADLINE = 20_000;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

export const shot = (page, name) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
export const unique = (prefix) => `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** One GraphQL request to the gateway; throws with the error's code on an error. */
export async function gql(query, variables = {}, token) {
  const response = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) {
    const error = new Error(`${body.errors[0].extensions?.code}: ${body.errors[0].message}`);
    error.code = body.errors[0].extensions?.code;
    throw error;
  }
  return body.data;
}

const AUTH = 'token user { id username role }';
/** A new customer's session (what the page keeps in localStorage). */
export async function newCustomer() {
  const username = unique('g');
  const data = await gql(`mutation($i: RegisterInput!) { register(input: $i) { ${AUTH} } }`,
    { i: { username, password: 'correct horse battery' } });
  return data.register;
}

let kitchenSession;
/** The kitchen account's session (signed in once per test file). */
export async function kitchen() {
  kitchenSession ??= gql(`mutation($i: LoginInput!) { login(input: $i) { ${AUTH} } }`,
    { i: { username: KITCHEN_USERNAME, password: KITCHEN_PASSWORD } }).then((d) => d.login);
  return kitchenSession;
}

export async function menu() {
  const data = await gql('{ menuItems(first: 100) { edges { node { id name category priceCents available station } } } }');
  return data.menuItems.edges.map((e) => e.node).filter((i) => i.available);
}

/** Places an order as `customer` (lines: [{ menuItemId, quantity, note }]). */
export async function placeOrder(customer, lines) {
  const data = await gql('mutation($i: CreateOrderInput!) { createOrder(input: $i) { id number status version } }',
    { i: { items: lines.map((l) => ({ quantity: 1, note: null, ...l })) } }, customer.token);
  return data.createOrder;
}

export async function setStatus(id, status) {
  const staff = await kitchen();
  return (await gql('mutation($id: ID!, $s: OrderStatus!) { updateOrderStatus(id: $id, status: $s) { id status } }',
    { id, s: status }, staff.token)).updateOrderStatus;
}

/** A page at `viewport`, signed in as `session` (none: signed out), showing `path`. */
export async function pageAt(browser, viewport, session, path = '/') {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(DEADLINE);
  if (session) {
    await page.goto(`${BASE}/favicon.svg`);
    await page.evaluate((s) => localStorage.setItem('restaurant.session', JSON.stringify(s)), session);
  }
  await page.goto(`${BASE}${path}`);
  return page;
}

/** The cart as the page keeps it, with `lines` in it. */
export async function fillCart(page, lines) {
  await page.evaluate((l) => localStorage.setItem('restaurant.cart', JSON.stringify(l)), lines);
}

/** axe-core on the page as it is: the serious and critical violations (expected: none). */
export async function seriousViolations(page) {
  await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}
