import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { gql, saveSession, signInProblem, type Session } from '../api';
import { ErrorBanner, useTitle } from '../ui';

/** Where to go after signing in: a path of this site only (never another host). */
function safeNext(next: string | null): string | null {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : null;
}

export function SignIn({ mode }: { mode: 'login' | 'signup' }) {
  useTitle(mode === 'login' ? 'Sign in' : 'Create an account');
  const navigate = useNavigate();
  const next = safeNext(useSearchParams()[0].get('next'));
  const keepNext = next ? `?next=${encodeURIComponent(next)}` : '';
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const field = mode === 'login' ? 'login' : 'register';
      const data = await gql<Record<string, Session>>(
        `mutation($i: ${mode === 'login' ? 'LoginInput' : 'RegisterInput'}!) { ${field}(input: $i) { token user { id username role } } }`,
        { i: { username, password } },
      );
      saveSession(data[field]);
      navigate(data[field].user.role === 'KITCHEN_STAFF' ? '/kitchen' : next ?? '/');
    } catch (e) {
      setError(signInProblem(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="narrow">
      <h1>{mode === 'login' ? 'Sign in' : 'Create an account'}</h1>
      <form onSubmit={submit}>
        <label>Username<input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} /></label>
        <label>Password<input name="password" type="password" autoComplete={mode === 'login' ? 'current-password' : 'new-password'} required value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        {mode === 'signup' && <p className="hint">3 to 32 letters, digits, '.', '_' or '-'; a password of at least 8 characters.</p>}
        <ErrorBanner message={error} />
        <button type="submit" className="primary" disabled={busy}>{mode === 'login' ? 'Sign in' : 'Sign up'}</button>
      </form>
      <p>{mode === 'login' ? <>New here? <Link to={`/signup${keepNext}`}>Create an account</Link></> : <>Have an account? <Link to={`/login${keepNext}`}>Sign in</Link></>}</p>
    </section>
  );
}
