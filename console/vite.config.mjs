// `make console`: builds the single-page console into console/dist, served by `autopilot api` under /console/.
// Vite 8 transforms TSX with oxc (no React plugin needed); JSX uses React's automatic runtime.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  logLevel: 'warn',
});
