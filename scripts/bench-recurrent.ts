/**
 * Sequence latency (batch 1 and 32 by default) of a stock TF.js LSTM against the hmf
 * runtime LSTM with dense, LMF and HMF matrices at factors 2, 4 and 8, for several sizes:
 * where do factored recurrent layers stop being slower than dense ones (per-op overhead)?
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-recurrent.js [--units 128,256,512] [--batches 1,32] [--steps 64]
 *     [--runs 15] [--factors 2,4,8] [--variants hmf-dense,lmf,hmf,portable-lmf,hmf-gather] [--backend wasm] [--json]
 *
 * Variants, each timed A/B-interleaved with the stock LSTM after warm-up (median ms):
 * - stock:        tf.layers.lstm
 * - portable-lmf: Dense(n -> r) + stock LSTM with kernel Q (the --portable form; recurrent kernel dense)
 * - hmf-dense:    HmfLSTM, both matrices dense (the runtime's own cost: input projection hoisted out of the loop)
 * - lmf xF:       HmfLSTM, both matrices LMF at factor F
 * - hmf xF:       HmfLSTM, both matrices HMF at factor F with half the budget on leading dense outputs (no gather)
 * - hmf-gather xF: as hmf xF with scattered dense outputs (one gather per step)
 * Input dimension = units. Weights are random: latency does not depend on values.
 */
import { tf } from '../src/tf.js';
import { initBackend, type BackendName } from '../src/backend.js';
import { registerHmfLayers, toRanges, type FactorsConfig } from '../src/runtime/index.js';

const { HmfLSTM } = registerHmfLayers(tf);

const ALL_VARIANTS = ['hmf-dense', 'portable-lmf', 'lmf', 'hmf', 'hmf-gather'];

interface Args {
  units: number[];
  batches: number[];
  variants: string[];
  steps: number;
  runs: number;
  factors: number[];
  backend?: BackendName;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);
  return {
    units: list(get('--units'), [128, 256, 512]),
    batches: list(get('--batches'), [1, 32]),
    variants: get('--variants')?.split(',') ?? ALL_VARIANTS,
    steps: Number(get('--steps') ?? 64),
    runs: Number(get('--runs') ?? 15),
    factors: list(get('--factors'), [2, 4, 8]),
    backend: get('--backend') as BackendName | undefined,
    json: argv.includes('--json'),
  };
}

/** LMF rank at factor f: floor(B / (n + m)). */
function lmfFactors(n: number, m: number, f: number): FactorsConfig {
  return { rank: Math.floor(Math.floor((n * m) / f) / (n + m)), denseRanges: [] };
}

/** HMF at factor f with about half the budget on k dense outputs, leading or spread over the gates. */
function hmfFactors(n: number, m: number, f: number, scattered: boolean): FactorsConfig {
  const budget = Math.floor((n * m) / f);
  const k = Math.floor(budget / 2 / n);
  const rank = Math.floor((budget - k * n) / (n + m - k));
  if (!scattered) return { rank, denseRanges: k > 0 ? [[0, k]] : [] };
  const step = m / k;
  const cols = Array.from({ length: k }, (_, i) => Math.floor(i * step));
  return { rank, denseRanges: toRanges(cols) };
}

function paramsOf(model: tf.LayersModel): number {
  return model.weights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

const INIT = { kernelInitializer: 'randomNormal', recurrentInitializer: 'randomNormal' } as const;

function stockModel(units: number, steps: number): tf.LayersModel {
  return tf.sequential({ layers: [tf.layers.lstm({ units, inputShape: [steps, units], ...INIT })] });
}

function portableModel(units: number, steps: number, f: number): tf.LayersModel {
  const r = lmfFactors(units, 4 * units, f).rank;
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: r, useBias: false, inputShape: [steps, units], kernelInitializer: 'randomNormal' }),
      tf.layers.lstm({ units, ...INIT }),
    ],
  });
}

function runtimeModel(units: number, steps: number, kernel: FactorsConfig | null, recurrent: FactorsConfig | null): tf.LayersModel {
  return tf.sequential({
    layers: [new HmfLSTM({ units, inputShape: [steps, units], kernelFactors: kernel, recurrentKernelFactors: recurrent, ...INIT })],
  });
}

function timeOnce(model: tf.LayersModel, x: tf.Tensor): number {
  const t0 = performance.now();
  const y = model.predict(x) as tf.Tensor;
  y.dataSync();
  const ms = performance.now() - t0;
  y.dispose();
  return ms;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Per-op overhead: median time of one tiny op. */
function opOverheadMs(): number {
  const a = tf.ones([1, 4]);
  const times: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t0 = performance.now();
    const b = tf.add(a, a);
    b.dataSync();
    times.push(performance.now() - t0);
    b.dispose();
  }
  a.dispose();
  return median(times.slice(200));
}

interface Row {
  units: number;
  batch: number;
  variant: string;
  params: number;
  ms: number;
  stockMs: number;
  speedup: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backend = await initBackend(args.backend ?? 'wasm');
  const rows: Row[] = [];
  const overhead = opOverheadMs();
  if (!args.json) {
    console.log(`backend ${backend}, tfjs ${tf.version.tfjs}, ${args.steps} steps, ${args.runs} runs, per-op overhead ~${(overhead * 1000).toFixed(1)} µs`);
  }
  const wanted = new Set(args.variants);
  for (const units of args.units) {
    const n = units;
    const m = 4 * units;
    const variants: [string, () => tf.LayersModel][] = [];
    if (wanted.has('hmf-dense')) variants.push(['hmf-dense', () => runtimeModel(units, args.steps, null, null)]);
    for (const f of args.factors) {
      if (wanted.has('portable-lmf')) variants.push([`portable-lmf x${f}`, () => portableModel(units, args.steps, f)]);
      if (wanted.has('lmf')) variants.push([`lmf x${f}`, () => runtimeModel(units, args.steps, lmfFactors(n, m, f), lmfFactors(units, m, f))]);
      if (wanted.has('hmf')) variants.push([`hmf x${f}`, () => runtimeModel(units, args.steps, hmfFactors(n, m, f, false), hmfFactors(units, m, f, false))]);
      if (wanted.has('hmf-gather')) variants.push([`hmf-gather x${f}`, () => runtimeModel(units, args.steps, hmfFactors(n, m, f, true), hmfFactors(units, m, f, true))]);
    }
    const stock = stockModel(units, args.steps);
    for (const batch of args.batches) {
      const x = tf.randomNormal([batch, args.steps, units]);
      for (const [variant, make] of variants) {
        const model = make();
        for (let i = 0; i < 3; i++) {
          timeOnce(stock, x);
          timeOnce(model, x);
        }
        const a: number[] = [];
        const b: number[] = [];
        for (let i = 0; i < args.runs; i++) {
          // A/B interleaved so drift hits both alike.
          a.push(timeOnce(stock, x));
          b.push(timeOnce(model, x));
        }
        const row = { units, batch, variant, params: paramsOf(model), ms: median(b), stockMs: median(a), speedup: median(a) / median(b) };
        rows.push(row);
        if (!args.json) {
          console.log(
            `${String(units).padStart(5)}  b${String(batch).padEnd(3)} ${variant.padEnd(16)} params ${(row.params / paramsOf(stock)).toFixed(3).padStart(6)}x  ` +
              `${row.ms.toFixed(2).padStart(8)} ms  stock ${row.stockMs.toFixed(2).padStart(8)} ms  speedup ${row.speedup.toFixed(2)}`,
          );
        }
        model.dispose();
      }
      x.dispose();
    }
    stock.dispose();
  }
  if (args.json) {
    console.log(JSON.stringify({ backend, tfjs: tf.version.tfjs, steps: args.steps, runs: args.runs, opOverheadMs: overhead, rows }, null, 2));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
