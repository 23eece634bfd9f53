import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { loadChecked } from './read.js';

const gzipAsync = promisify(gzip);

/**
 * Bytes of model.json + its shards on disk, raw and gzip (node:zlib level 9,
 * each file compressed on its own, as a server would send them) — for the report.
 */
export async function modelBytes(modelJsonPath: string): Promise<{ raw: number; gzip: number }> {
  const checked = await loadChecked(modelJsonPath);
  const contents: Buffer[] = [checked.jsonData];
  for (const g of checked.groups) {
    let offset = 0;
    for (const f of g.files) {
      contents.push(g.data.subarray(offset, offset + f.bytes));
      offset += f.bytes;
    }
  }
  let raw = 0;
  let zipped = 0;
  for (const c of contents) {
    raw += c.byteLength;
    zipped += (await gzipAsync(c, { level: 9 })).byteLength;
  }
  return { raw, gzip: zipped };
}
