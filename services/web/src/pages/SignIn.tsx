import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { friendly, gql, saveSession, type Session } from '../api';

export function SignIn({ mode }: { mode: 'login' | 'signup' }) {
  const navigate = useNavigate();
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
      navigate(data[field].user.role === 'KITCHEN_STAFF' ? '/kitchen' : '/');
    } catch (e) {
      setError(friendly(e));
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
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>{mode === 'login' ? 'Sign in' : 'Sign up'}</button>
      </form>
      <p>{mode === 'login' ? <>New here? <Link to="/signup">Create an account</Link></> : <>Have an account? <Link to="/login">Sign in</Link></>}</p>
    </section>
  );
}
