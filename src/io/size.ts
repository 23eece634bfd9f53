import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { loadChecked, modelFromChecked, type CheckedModel } from './read.js';
import type { ModelFile } from './types.js';

const gzipAsync = promisify(gzip);

/**
 * Level 9, with an output buffer larger than the whole output: deflate then runs in one
 * thread-pool job. With zlib's default 16 KiB chunks, every chunk needs the main thread
 * to start the next, so sizes started before a long synchronous factorization made no
 * progress until it ended (the PTB benchmark waited 0.27 s for them at the end).
 */
function deflated(data: Uint8Array): Promise<Buffer> {
  return gzipAsync(data, { level: 9, chunkSize: Math.max(64 * 1024, data.byteLength + (data.byteLength >> 6) + 1024) });
}

/** Bytes of a model's files, raw and gzip. */
export interface ByteSizes {
  raw: number;
  gzip: number;
  /** The gzip size is an estimate from a sample (files larger than EXACT_GZIP_MAX in all). */
  gzipEstimated?: true;
}

/** Up to this many bytes in all, every file is deflated whole (exact gzip size). */
export const EXACT_GZIP_MAX = 16 * 2 ** 20;
/** Above EXACT_GZIP_MAX, every SAMPLE_STRIDE-th chunk of SAMPLE_CHUNK bytes is deflated and the ratio scaled up. */
export const SAMPLE_CHUNK = 256 * 1024;
export const SAMPLE_STRIDE = 8;

/**
 * Raw and gzip bytes of `contents` (node:zlib level 9, each file on its own, as a server
 * would send them). Deflate runs at ~40 MB/s here whatever the level (float weights hardly
 * compress), so an 80 MB model cost 2.1 s of CPU for a size that is ~93% of raw; above
 * EXACT_GZIP_MAX the size is estimated from a fixed 1/SAMPLE_STRIDE sample of chunks
 * (deflate's window is 32 KiB, so a 256 KiB chunk compresses about as it does in place),
 * deterministic, and flagged `gzipEstimated`.
 */
export async function gzipSizes(contents: readonly Uint8Array[]): Promise<ByteSizes> {
  const raw = contents.reduce((s, c) => s + c.byteLength, 0);
  if (raw <= EXACT_GZIP_MAX) {
    const zipped = await Promise.all(contents.map((c) => deflated(c)));
    return { raw, gzip: zipped.reduce((s, z) => s + z.byteLength, 0) };
  }
  let chunkedRaw = 0;
  const sample: Uint8Array[] = [];
  const small: Uint8Array[] = []; // files of one chunk or less, deflated whole
  let index = 0;
  for (const c of contents) {
    if (c.byteLength <= SAMPLE_CHUNK) {
      small.push(c);
      continue;
    }
    chunkedRaw += c.byteLength;
    for (let at = 0; at < c.byteLength; at += SAMPLE_CHUNK, index++) {
      if (index % SAMPLE_STRIDE === 0) sample.push(c.subarray(at, Math.min(c.byteLength, at + SAMPLE_CHUNK)));
    }
  }
  const [smallZipped, sampleZipped] = await Promise.all([
    Promise.all(small.map((c) => deflated(c))),
    Promise.all(sample.map((c) => deflated(c))),
  ]);
  const exact = smallZipped.reduce((s, z) => s + z.byteLength, 0);
  const sampledRaw = sample.reduce((s, c) => s + c.byteLength, 0);
  const sampledZipped = sampleZipped.reduce((s, z) => s + z.byteLength, 0);
  return { raw, gzip: exact + Math.round((sampledZipped / sampledRaw) * chunkedRaw), gzipEstimated: true };
}

/** Bytes of model.json + its shards on disk, raw and gzip (see gzipSizes) — for the report. */
export async function modelBytes(modelJsonPath: string): Promise<ByteSizes> {
  return gzipSizes(fileContents(await loadChecked(modelJsonPath)));
}

/**
 * readModel, and the sizes of the files it read (modelBytes) without reading them again:
 * their deflate starts at once on libuv's thread pool and runs beside what the caller does.
 * `checked` keeps the bytes as read (checkedArtifacts loads them into TF.js as stored).
 */
export async function readModelAndBytes(modelJsonPath: string): Promise<{ model: ModelFile; bytes: Promise<ByteSizes>; checked: CheckedModel }> {
  const checked = await loadChecked(modelJsonPath);
  const bytes = gzipSizes(fileContents(checked));
  bytes.catch(() => {}); // the caller awaits it later; a failure must not be an unhandled rejection first
  return { model: modelFromChecked(checked), bytes, checked };
}

/** model.json and each shard file's bytes, as read. */
function fileContents(checked: CheckedModel): Uint8Array[] {
  const contents: Uint8Array[] = [checked.jsonData];
  for (const g of checked.groups) {
    let offset = 0;
    for (const f of g.files) {
      contents.push(g.data.subarray(offset, offset + f.bytes));
      offset += f.bytes;
    }
  }
  return contents;
}
