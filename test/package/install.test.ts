import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { registerHmfLayers } from '../../src/runtime/index.js';
import { loadStock, runHmf } from '../cli/run.js';
import { repoRoot, tempDir } from '../helpers.js';

/**
 * hmf as an app gets it: a fresh app folder with `npm install <packed hmf> @tensorflow/tfjs`,
 * and one with `npm install <hmf folder> @tensorflow/tfjs` (npm symlinks the folder, whose
 * own node_modules holds the checkout's TF.js). In each, an ESM and a CommonJS program load
 * a compressed BiGRU model with `hmf/runtime` and predict what hmf predicts; they print no
 * warning, load no file of hmf but the runtime bundle, and load the app's one copy of
 * tfjs-core, the only one in the app's tree. A registry install is the packed tarball's.
 */

const root = tempDir('hmf-install-');
const modelDir = join(root, 'gru-hmf');
const tfjsVersion = (JSON.parse(readFileSync(join(repoRoot, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')) as { version: string }).version;
let input: number[][] = [];
let expected: number[] = [];

/** The program an app would write: register, load the model folder, predict, report what got loaded. */
const PROGRAM = {
  esm: `
    import * as tf from '@tensorflow/tfjs';
    import { registerHmfLayers } from 'hmf/runtime';
    import { readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    registerHmfLayers(tf);
    registerHmfLayers(tf);
    const loadedFiles = () => Object.keys(createRequire(import.meta.url).cache);
  `,
  cjs: `
    const tf = require('@tensorflow/tfjs');
    const { registerHmfLayers } = require('hmf/runtime');
    const { readFileSync } = require('node:fs');
    registerHmfLayers(tf);
    registerHmfLayers(tf);
    const loadedFiles = () => Object.keys(require.cache);
  `,
  body: `
    (async () => {
      const [dir, inputJson] = process.argv.slice(2);
      const json = JSON.parse(readFileSync(dir + '/model.json', 'utf8'));
      const bytes = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(dir + '/' + p))));
      const model = await tf.loadLayersModel(tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      }));
      const y = model.predict(tf.tensor(JSON.parse(inputJson), undefined, 'int32'));
      process.stdout.write(JSON.stringify({ layers: model.layers.map((l) => l.getClassName()), values: Array.from(y.dataSync()), files: loadedFiles() }));
    })();
  `,
};

/** TF.js's own notice in Node without tfjs-node (not ours; everything else on stderr is a failure). */
const TFJS_NODE_NOTICE = /={10,}\s*Hi, looks like you are running TensorFlow\.js in Node\.js\.[^\n]*\s*={10,}\s*/g;
const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH/;

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** Every installed copy of a package under node_modules, not following symlinks (a linked folder is not the app's tree). */
function installedCopies(nodeModules: string, name: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (lstatSync(path).isSymbolicLink() || !lstatSync(path).isDirectory()) continue;
      if (path.endsWith(join('node_modules', name))) found.push(path);
      walk(path);
    }
  };
  walk(nodeModules);
  return found;
}

/** Both installs run at once (npm is mostly waiting on the disk and the cache): a fresh app folder each. */
const installs = new Map<string, Promise<{ app: string; code: number; stdout: string; stderr: string }>>();

function install(way: string, spec: string): Promise<{ app: string; code: number; stdout: string; stderr: string }> {
  const app = join(root, `app-${way.split(' ')[0]}`);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  // --ignore-scripts: npm would run the folder's `prepare` (a rebuild of this checkout's dist/, under the running tests).
  return run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', spec, `@tensorflow/tfjs@${tfjsVersion}`], app).then((r) => ({ app, ...r }));
}

before(async () => {
  await initBackend();
  const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', root], repoRoot);
  assert.equal(packed.code, 0, packed.stderr);
  const tarball = join(root, packed.stdout.trim().split('\n').pop() as string);
  installs.set('packed tarball', install('packed tarball', tarball));
  installs.set('folder (symlinked)', install('folder (symlinked)', repoRoot));
  const compressed = await runHmf(['compress', join(repoRoot, 'fixtures/sentiment-gru/model.json'), '-f', '4', '-o', modelDir, '--no-bench', '-q']);
  assert.equal(compressed.code, 0, compressed.stderr);
  const test = JSON.parse(readFileSync(join(repoRoot, 'fixtures/sentiment-gru/test.json'), 'utf8')) as { inputs: number[][] };
  input = test.inputs.slice(0, 4);
  registerHmfLayers(tf);
  const model = await loadStock(join(modelDir, 'model.json'));
  expected = Array.from((model.predict(tf.tensor(input, undefined, 'int32')) as tf.Tensor).dataSync());
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('a fresh app installs hmf and loads a compressed BiGRU model with hmf/runtime', () => {
  for (const way of ['packed tarball', 'folder (symlinked)']) {
    test(`npm install <${way}> @tensorflow/tfjs: ESM and CommonJS programs`, async (t: TestContext) => {
      const installed = await installs.get(way)!;
      const app = installed.app;
      if (installed.code !== 0 && NETWORK.test(installed.stderr)) {
        t.skip(`npm could not reach the registry: ${installed.stderr.split('\n').find((l) => NETWORK.test(l))}`);
        return;
      }
      assert.equal(installed.code, 0, installed.stderr);
      const nodeModules = realpathSync(join(app, 'node_modules'));
      assert.deepEqual(installedCopies(nodeModules, '@tensorflow/tfjs-core'), [join(nodeModules, '@tensorflow/tfjs-core')]);
      const runtimeFile = realpathSync(join(app, 'node_modules/hmf/dist/runtime'));
      for (const kind of ['esm', 'cjs'] as const) {
        const file = join(app, kind === 'esm' ? 'load.mjs' : 'load.cjs');
        writeFileSync(file, PROGRAM[kind] + PROGRAM.body);
        const r = await run(process.execPath, [file, modelDir, JSON.stringify(input)], app);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr.replace(TFJS_NODE_NOTICE, '').trim(), '', `${kind}: nothing but TF.js's own notice on stderr`);
        const out = JSON.parse(r.stdout) as { layers: string[]; values: number[]; files: string[] };
        assert.ok(out.layers.includes('HmfBidirectional'), `${kind}: ${out.layers.join(', ')}`);
        assert.equal(out.values.length, expected.length);
        const worst = Math.max(...out.values.map((v, i) => Math.abs(v - expected[i])));
        assert.ok(worst < 1e-4, `${kind}: max difference from hmf's own prediction ${worst}`);
        const cores = out.files.filter((f) => f.includes('tfjs-core'));
        assert.ok(cores.length > 0 && cores.every((f) => f.startsWith(join(nodeModules, '@tensorflow/tfjs-core'))), `${kind}: tfjs-core loaded from ${[...new Set(cores.map((f) => f.split('/dist/')[0]))].join(', ')}`);
        const ours = out.files.filter((f) => f.startsWith(runtimeFile.replace(/dist\/runtime$/, '')) || f.includes('/node_modules/hmf/'));
        assert.deepEqual(ours, kind === 'cjs' ? [join(runtimeFile, 'hmf-runtime.cjs')] : [], `${kind}: files of hmf loaded`);
        for (const dep of ['commander', 'chalk', 'ora', 'ml-matrix', 'tfjs-backend-wasm']) {
          assert.ok(!out.files.some((f) => f.includes(`/node_modules/${dep}/`) || f.includes(`/node_modules/@tensorflow/${dep}/`)), `${kind}: ${dep} loaded`);
        }
      }
    });
  }
});
