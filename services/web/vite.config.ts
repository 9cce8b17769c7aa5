import { defineConfig } from 'vite';

// No React plugin (it does not install with every npm here): esbuild's automatic JSX suffices.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  server: {
    port: 3000,
    // In development, the gateway serves the API on 8082.
    proxy: {
      '/graphql': { target: 'http://127.0.0.1:8082', ws: true },
      '/config.json': 'http://127.0.0.1:8082',
    },
  },
  // No source maps in the build: the gateway serves everything in dist/ to anyone.
  build: { outDir: 'dist', sourcemap: false },
});
