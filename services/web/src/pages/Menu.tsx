import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { friendly, gql, money, onMenuChange } from '../api';
import { add } from '../cart';
import { CategoryArt } from '../illustrations';
import { ErrorBanner, Toast, useTitle } from '../ui';

interface Item { id: string; name: string; description: string; category: string; priceCents: number; available: boolean }
const CATEGORIES = ['ALL', 'STARTER', 'MAIN', 'SIDE', 'DESSERT', 'DRINK'] as const;
const LABEL: Record<string, string> = { ALL: 'Everything', STARTER: 'Starters', MAIN: 'Mains', SIDE: 'Sides', DESSERT: 'Desserts', DRINK: 'Drinks' };

export function Menu() {
  useTitle('Menu');
  const [category, setCategory] = useState<(typeof CATEGORIES)[number]>('ALL');
  const [items, setItems] = useState<Item[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<{ name: string; at: number } | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    setItems(null);
    gql<{ menuItems: { edges: { node: Item }[] } }>(
      `query($c: MenuCategory) { menuItems(first: 100, category: $c) { edges { node { id name description category priceCents available } } } }`,
      { c: category === 'ALL' ? null : category },
    )
      .then((d) => {
        setItems(d.menuItems.edges.map((e) => e.node));
        setError(null);
      })
      .catch((e) => setError(friendly(e)));
  }, [category, attempt]);

  // A dish the kitchen 86es (or brings back) changes here at once, without a reload.
  useEffect(() => onMenuChange((changed) => {
    setItems((current) => current?.map((item) => (item.id === changed.id ? { ...item, available: changed.available } : item)) ?? current);
  }), []);

  return (
    <section>
      <h1>Menu</h1>
      <div className="filters" role="group" aria-label="Category">
        {CATEGORIES.map((c) => (
          <button key={c} type="button" aria-pressed={category === c} onClick={() => setCategory(c)}>{LABEL[c]}</button>
        ))}
      </div>
      <ErrorBanner message={error} retry={() => setAttempt((n) => n + 1)} />
      {added && <Toast stamp={added.at}>{added.name} added to your cart. <Link to="/order/create">View cart</Link></Toast>}
      {!items && !error && <p>Loading the menu…</p>}
      {items && !items.length && <p className="empty">Nothing here today. <button type="button" className="link" onClick={() => setCategory('ALL')}>See everything</button></p>}
      <ul className="menu">
        {items?.map((item) => (
          <li key={item.id} className={item.available ? '' : 'unavailable'} data-item={item.id} data-available={item.available}>
            <div className="dish">
              <CategoryArt category={item.category} />
              <div>
                <h2>{item.name}</h2>
                <p>{item.description}</p>
              </div>
            </div>
            <div className="buy">
              <span className="price">{money(item.priceCents)}</span>
              <button
                type="button"
                className={item.available ? 'primary' : ''}
                disabled={!item.available}
                aria-label={item.available ? `Add ${item.name} to cart` : `Sold out: ${item.name}`}
                onClick={() => {
                  add({ menuItemId: item.id, name: item.name, priceCents: item.priceCents });
                  setAdded({ name: item.name, at: Date.now() });
                }}
              >
                {item.available ? 'Add' : 'Sold out'}
              </button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
