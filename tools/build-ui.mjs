// Builds pitr ui's front end (src/ui/web) into dist/ui/web with esbuild: one script bundle (uPlot
// included), one stylesheet, the page. Part of `npm run build` and `prepare`, so `npm ci` produces it.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/ui/web');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'src/ui/web/app.ts') },
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  target: ['es2020'],
  outdir: out,
  logLevel: 'warning',
});
copyFileSync(join(root, 'src/ui/web/index.html'), join(out, 'index.html'));
