import { useEffect, useState } from 'react';
import { friendly, gql, onMenuChange } from '../api';

interface Dish { id: string; name: string; available: boolean }

/** The sold-out (86) control: the cooks mark a dish sold out and back; every open menu and
 * cart shows it at once, and orders for it are refused. */
export function SoldOut() {
  const [open, setOpen] = useState(false);
  const [dishes, setDishes] = useState<Dish[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (!open) return;
    gql<{ menuItems: { edges: { node: Dish }[] } }>('{ menuItems(first: 100) { edges { node { id name available } } } }')
      .then((d) => setDishes(d.menuItems.edges.map((e) => e.node)))
      .catch((e) => setProblem(friendly(e)));
    return onMenuChange((changed) => setDishes((current) => current?.map((d) => (d.id === changed.id ? { ...d, available: changed.available } : d)) ?? current));
  }, [open]);
  const toggle = async (dish: Dish) => {
    setProblem(null);
    try {
      const d = await gql<{ setMenuItemAvailable: Dish }>(
        'mutation($id: ID!, $a: Boolean!) { setMenuItemAvailable(id: $id, available: $a) { id name available } }',
        { id: dish.id, a: !dish.available },
      );
      setDishes((current) => current?.map((x) => (x.id === dish.id ? d.setMenuItemAvailable : x)) ?? current);
    } catch (e) {
      setProblem(friendly(e));
    }
  };
  const out = dishes?.filter((d) => !d.available).length ?? 0;
  return (
    <section className="eighty-six" aria-label="Sold out">
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? 'Hide sold out' : 'Sold out (86)'}{open && dishes ? ` · ${out} out` : ''}
      </button>
      {problem && <p role="alert" className="board-message">{problem}</p>}
      {open && dishes && (
        <ul>
          {dishes.map((d) => (
            <li key={d.id} data-dish={d.id} data-available={d.available}>
              <span className="dish-name">{d.name}</span>
              <button type="button" className={d.available ? 'secondary' : 'primary'} onClick={() => toggle(d)}
                aria-label={d.available ? `Mark ${d.name} sold out` : `${d.name} is back`}>
                {d.available ? '86 it' : 'Back on'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
