import { useEffect, useState } from 'react';
import { friendly, gql, money } from '../api';
import { add } from '../cart';

interface Item { id: string; name: string; description: string; category: string; priceCents: number; available: boolean }
const CATEGORIES = ['ALL', 'STARTER', 'MAIN', 'SIDE', 'DESSERT', 'DRINK'] as const;
const LABEL: Record<string, string> = { ALL: 'Everything', STARTER: 'Starters', MAIN: 'Mains', SIDE: 'Sides', DESSERT: 'Desserts', DRINK: 'Drinks' };

export function Menu() {
  const [category, setCategory] = useState<(typeof CATEGORIES)[number]>('ALL');
  const [items, setItems] = useState<Item[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);

  useEffect(() => {
    setItems(null);
    gql<{ menuItems: { edges: { node: Item }[] } }>(
      `query($c: MenuCategory) { menuItems(first: 100, category: $c) { edges { node { id name description category priceCents available } } } }`,
      { c: category === 'ALL' ? null : category },
    )
      .then((d) => setItems(d.menuItems.edges.map((e) => e.node)))
      .catch((e) => setError(friendly(e)));
  }, [category]);

  return (
    <section>
      <h1>Menu</h1>
      <div className="filters" role="group" aria-label="Category">
        {CATEGORIES.map((c) => (
          <button key={c} type="button" aria-pressed={category === c} onClick={() => setCategory(c)}>{LABEL[c]}</button>
        ))}
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {added && <p role="status" className="notice">{added} added to your cart.</p>}
      {!items && !error && <p>Loading the menu…</p>}
      <ul className="menu">
        {items?.map((item) => (
          <li key={item.id} className={item.available ? '' : 'unavailable'}>
            <div>
              <h2>{item.name}</h2>
              <p>{item.description}</p>
            </div>
            <div className="buy">
              <span className="price">{money(item.priceCents)}</span>
              <button
                type="button"
                disabled={!item.available}
                aria-label={`Add ${item.name} to cart`}
                onClick={() => {
                  add({ menuItemId: item.id, name: item.name, priceCents: item.priceCents });
                  setAdded(item.name);
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
