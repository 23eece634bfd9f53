/**
 * Builds the runtime's bundles into dist/runtime/ (run by `npm run build` after tsc):
 *
 * - hmf-runtime.mjs     ESM, for bundlers and Node's `import` (package.json `module`, `exports.import`)
 * - hmf-runtime.cjs     CommonJS, for `require('hmf/runtime')`
 * - hmf-runtime.min.js  one minified script for a `<script>` tag after TF.js's own: registers
 *                       on the global `tf`, functions on the global `hmf` (`unpkg`, `jsdelivr`)
 *
 * Each is one self-contained file: the runtime imports nothing at run time (its layers are
 * defined on the TF.js the app passes in), and the build fails if a bundle would.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/build-runtime.js
 */
import { build, type BuildOptions } from 'esbuild';
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist', 'runtime');

const common: BuildOptions = {
  bundle: true,
  // Nothing may be imported: TF.js comes in as an argument (or the page's global tf).
  external: [],
  platform: 'neutral',
  target: 'es2020',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
};

const bundles: (BuildOptions & { outfile: string })[] = [
  { ...common, entryPoints: [join(root, 'src/runtime/index.ts')], format: 'esm', outfile: join(out, 'hmf-runtime.mjs') },
  { ...common, entryPoints: [join(root, 'src/runtime/index.ts')], format: 'cjs', outfile: join(out, 'hmf-runtime.cjs') },
  { ...common, entryPoints: [join(root, 'src/runtime/browser.ts')], format: 'iife', globalName: 'hmf', minify: true, outfile: join(out, 'hmf-runtime.min.js') },
];

for (const options of bundles) {
  const result = await build(options);
  const inputs = Object.keys(result.metafile?.inputs ?? {});
  const foreign = inputs.filter((p) => !p.startsWith('src/runtime/'));
  if (foreign.length > 0) throw new Error(`${options.outfile}: the runtime bundle would include ${foreign.join(', ')}; it may only hold src/runtime/`);
  const imports = Object.values(result.metafile?.outputs ?? {}).flatMap((o) => o.imports);
  if (imports.length > 0) throw new Error(`${options.outfile}: the runtime bundle imports ${imports.map((i) => i.path).join(', ')}; it must import nothing`);
  console.log(`${options.outfile.slice(root.length + 1)}  ${(statSync(options.outfile).size / 1024).toFixed(1)} KiB`);
}
