import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { tf } from '../../src/tf.js';
import { HMF_LAYER_CLASSES } from '../../src/runtime/index.js';
import { repoRoot } from '../helpers.js';

/** The runtime's three shipped bundles (scripts/build-runtime.ts), as package.json names them. */
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  unpkg: string;
  peerDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};
const runtimeExports = pkg.exports['./runtime'] as Record<string, string>;
const files = { import: runtimeExports.import, require: runtimeExports.require, script: pkg.exports['./runtime/script'] as string };

describe('runtime bundles', () => {
  test('package.json: TF.js is a peer dependency; import, require and the script point at the bundles', () => {
    assert.ok(pkg.peerDependencies['@tensorflow/tfjs'], 'peerDependencies @tensorflow/tfjs');
    assert.equal(pkg.dependencies['@tensorflow/tfjs'], undefined, 'not also a dependency (an app would get a second copy)');
    assert.deepEqual(files, { import: './dist/runtime/hmf-runtime.mjs', require: './dist/runtime/hmf-runtime.cjs', script: './dist/runtime/hmf-runtime.min.js' });
    assert.equal(pkg.unpkg, files.script);
  });

  for (const [kind, file] of Object.entries(files)) {
    test(`${kind} (${file}) is one file that imports nothing`, async () => {
      const result = await build({ entryPoints: [join(repoRoot, file)], bundle: true, write: false, metafile: true, platform: 'neutral', logLevel: 'silent' });
      assert.deepEqual(Object.keys(result.metafile.inputs), [file.slice(2)]);
      for (const output of Object.values(result.metafile.outputs)) assert.deepEqual(output.imports, []);
    });
  }

  test('the CommonJS bundle registers on the TF.js it is given and returns the same classes again', () => {
    const runtime = createRequire(import.meta.url)(join(repoRoot, files.require)) as typeof import('../../src/runtime/index.js');
    const layers = runtime.registerHmfLayers(tf);
    assert.equal(runtime.registerHmfLayers(tf), layers);
    const registry = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const name of HMF_LAYER_CLASSES) assert.equal(registry[name]?.[0], layers[name as keyof typeof layers], name);
  });

  test('the script registers on a global tf when there is one, and says what to pass when there is none', () => {
    const source = readFileSync(join(repoRoot, files.script), 'utf8');
    const page: { tf?: unknown; hmf?: { registerHmfLayers: (t?: unknown) => unknown } } = { tf };
    runInNewContext(source, page);
    assert.equal(typeof page.hmf?.registerHmfLayers, 'function');
    const registered = page.hmf?.registerHmfLayers();
    const registry = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const name of HMF_LAYER_CLASSES) assert.equal(registry[name]?.[0], (registered as Record<string, unknown>)[name], name);
    const bare: typeof page = {};
    runInNewContext(source, bare);
    assert.throws(() => bare.hmf?.registerHmfLayers(), /pass the TF.js you load models with/);
  });
});
