import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, NavLink, Route, Routes } from 'react-router-dom';
import { session, signOut, type Session } from './api';
import { useTitle } from './ui';
import { cart } from './cart';
import { Menu } from './pages/Menu';
import { SignIn } from './pages/SignIn';
import { Checkout } from './pages/Checkout';
import { Orders } from './pages/Orders';
import { OrderDetail } from './pages/OrderDetail';
import { Kitchen } from './pages/Kitchen';
import { Speed } from './pages/Speed';
import { Ticket } from './pages/Ticket';
import './style.css';

/** The signed-in user, kept in step with sign-in and sign-out. */
export function useSession(): Session | null {
  const [current, setCurrent] = useState(session());
  useEffect(() => {
    const update = () => setCurrent(session());
    window.addEventListener('session', update);
    return () => window.removeEventListener('session', update);
  }, []);
  return current;
}

function useCartCount(): number {
  const [count, setCount] = useState(cart().reduce((n, l) => n + l.quantity, 0));
  useEffect(() => {
    const update = () => setCount(cart().reduce((n, l) => n + l.quantity, 0));
    window.addEventListener('cart', update);
    return () => window.removeEventListener('cart', update);
  }, []);
  return count;
}

function Nav() {
  const user = useSession()?.user;
  const count = useCartCount();
  return (
    <header className="top">
      <Link to="/" className="brand" aria-label="Restaurant — menu">
        <svg viewBox="0 0 64 64" width="28" height="28" aria-hidden="true" focusable="false"><circle cx="32" cy="32" r="30" fill="currentColor" /><path d="M14 40a18 18 0 0 1 36 0z" fill="#fff" /><circle cx="32" cy="19" r="3" fill="#fff" /><rect x="10" y="42" width="44" height="4" rx="2" fill="#fff" /></svg>
        <span className="brand-name">Restaurant</span>
      </Link>
      <nav aria-label="Main">
        {user?.role !== 'KITCHEN_STAFF' && <NavLink to="/">Menu</NavLink>}
        {user?.role !== 'KITCHEN_STAFF' && <NavLink to="/order/create">Cart ({count})</NavLink>}
        {user?.role === 'CUSTOMER' && <NavLink to="/orders">My orders</NavLink>}
        {user?.role === 'KITCHEN_STAFF' && <NavLink to="/kitchen">Kitchen</NavLink>}
        {user ? (
          <button type="button" className="link" onClick={signOut}>Sign out <span className="who">{user.username}</span></button>
        ) : (
          <>
            <NavLink to="/login">Sign in</NavLink>
            <NavLink to="/signup">Sign up</NavLink>
          </>
        )}
      </nav>
    </header>
  );
}

function NotFound() {
  useTitle('Not found');
  return (
    <section className="empty">
      <h1>Nothing here</h1>
      <p>That page does not exist (any more).</p>
      <Link className="button primary" to="/">Back to the menu</Link>
    </section>
  );
}

function App() {
  return (
    <BrowserRouter>
      <a className="skip" href="#main">Skip to content</a>
      <Nav />
      <main id="main">
        <Routes>
          <Route path="/" element={<Menu />} />
          <Route path="/login" element={<SignIn mode="login" />} />
          <Route path="/signup" element={<SignIn mode="signup" />} />
          <Route path="/order/create" element={<Checkout />} />
          <Route path="/orders" element={<Orders />} />
          <Route path="/orders/:id" element={<OrderDetail />} />
          <Route path="/kitchen" element={<Kitchen />} />
          <Route path="/kitchen/speed" element={<Speed />} />
          <Route path="/ticket/:orderId" element={<Ticket />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </BrowserRouter>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
