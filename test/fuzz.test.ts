/**
 * A few hundred cases of scripts/fuzz.ts in the test suite (the script runs 10,000 with a
 * watchdog): every mutated model.json (layers and graph), shard and data file either
 * compresses to a complete folder or is refused with exit 2/3/4 naming the file and the
 * field, writing nothing. Fixed seeds; fast-check prints the failing case and its seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { FUZZ_KINDS, fuzzCase, loadBases, runCase } from '../scripts/fuzz.js';
import { tempDir } from './helpers.js';

const CASES_PER_KIND = 75;

const bases = await loadBases();

for (const [i, kind] of FUZZ_KINDS.entries()) {
  test(`fuzz ${kind}: ${CASES_PER_KIND} mutated inputs, no internal error, every refusal names the file and field and writes nothing`, { timeout: 600_000 }, async () => {
    const root = tempDir('hmf-fuzz-');
    let n = 0;
    const outcomes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(fuzzCase(kind), async (c) => {
        const dir = join(root, String(n++));
        const result = await runCase(c, bases[kind], dir);
        rmSync(dir, { recursive: true, force: true });
        outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
        assert.equal(result.violation, null);
        assert.ok(result.seconds < 10, `took ${result.seconds.toFixed(1)} s`);
      }),
      { numRuns: CASES_PER_KIND, seed: 17 + i, endOnFailure: true },
    );
    // The mutations reach both sides: some inputs are refused and some still compress.
    assert.ok(Object.keys(outcomes).length >= 2, JSON.stringify(outcomes));
  });
}
