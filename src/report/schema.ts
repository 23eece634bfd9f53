import type { BrowserLatencyReport } from '../browser/bench.js';
import type { EvalReport } from '../eval.js';
import type { FinetuneSummary } from '../finetune/index.js';
import type { OutputFidelity, UnmeasuredOutput } from '../measure/fidelity.js';
import type { BatchLatency } from '../measure/latency.js';
import type { MethodName, OutputSelection } from '../methods/types.js';
import type { PlanSummary } from '../plan/index.js';
import type { Trial } from '../plan/auto.js';

/** Bumped whenever a key changes meaning or disappears (adding keys keeps the version). */
export const REPORT_SCHEMA_VERSION = 1;

/** One targeted matrix, as the report shows it (docs/ARCHITECTURE.md §4). */
export interface MatrixReport {
  layer: string;
  /** `kernel` or `embeddings`. */
  role: string;
  weight: string;
  /** [n inputs, m outputs]. */
  shape: [number, number];
  /** Convolutions: the kernel as stored ([kh, kw, cin, cout], [k, cin, cout]); `shape` is its (kh·kw·cin) x cout matrix. */
  kernelShape?: number[];
  /** The method applied, or `dense` when the matrix was left as it was. */
  method: MethodName | 'dense';
  /** LMF/HMF rank r. */
  rank: number | null;
  /** HMF dense outputs k. */
  denseOutputs: number | null;
  /** HMF output selection actually used (residual falls back to leading where order is fixed). */
  selection: OutputSelection | null;
  /** Pruning: share of zeros. */
  sparsity: number | null;
  paramsBefore: number;
  paramsAfter: number;
  /** Multiply-accumulates per input row (per token for Embedding: a lookup is 0; per output position for a convolution). */
  macsBefore: number;
  macsAfter: number;
  /** ||K - K'||_F / ||K||_F. */
  relativeError: number;
  /** With calibration data: ||X(K - K')||_F / ||X K||_F over the calibration activations X (null: none collected for this matrix). */
  weightedError?: number | null;
  seconds: number;
  /** Why the matrix stayed dense, or why the selection fell back. */
  note: string | null;
  /** --sparse: how the written model stores this pruned matrix. */
  storage?: StorageReport;
}

/** How a pruned matrix is written under --sparse. */
export interface StorageReport {
  /** `csr` / `bitmap`: values plus indices or a bit mask, run by the hmf runtime; `dense`: zeros stored. */
  format: 'csr' | 'bitmap' | 'dense';
  /** Bytes of the matrix's weights as written. */
  bytes: number;
  /** Bytes it would take stored dense. */
  denseBytes: number;
  /** Non-zeros over entries. */
  density: number;
  /** What the hmf runtime multiplies with on wasm for one input row and for several: its sparse kernel where that was measured not slower, else the matrix expanded to dense. */
  kernelOnWasm: { oneRow: 'sparse' | 'dense'; rows: 'sparse' | 'dense' } | null;
  /** Why it stayed dense. */
  note: string | null;
}

export interface SizeReport {
  raw: number;
  gzip: number;
  /** Present when gzip is estimated from a fixed sample of the files (models above 16 MiB; src/io/size.ts). */
  gzipEstimated?: true;
}

export interface Report {
  schemaVersion: number;
  tool: { name: 'hmf'; version: string };
  command: string;
  /** Things the user should know that did not stop the run (the CLI also prints them on stderr). */
  warnings: string[];
  /** `asyncOps`: the graph's ops that make TF.js run it through executeAsync (control flow, dynamic shapes, hash tables); empty otherwise. */
  model: { path: string; format: 'layers-model' | 'graph-model'; className: string; asyncOps: string[] };
  output: { path: string | null; runtimeRequired: boolean };
  options: {
    method: MethodName;
    factor: number;
    selection: OutputSelection;
    /** HMF's fixed dense share (--dense-share), or null when k is chosen per matrix. */
    denseShare: number | null;
    /** Pruning's `--scope` when given (it then replaces the allocation), else null. */
    scope: 'layer' | 'global' | null;
    /** How the budget was spread over the matrices (`--allocate`). */
    allocate: 'global' | 'uniform';
    /** What the plan optimised (`--objective`). */
    objective: 'balanced' | 'size' | 'latency';
    /** --sparse: pruned kernels stored compactly (see matrices[].storage). */
    sparse: boolean;
    /** Pruning with fine-tuning: `oneshot`, or `gradual` (sparsity raised during fine-tuning). */
    pruneSchedule: 'oneshot' | 'gradual';
    minParams: number;
    seed: number;
    portable: boolean;
    quantize: 'keep' | 'float16' | 'uint8';
  };
  matrices: MatrixReport[];
  /** What the planner decided and why: sensitivities, layer latencies, the HMF/LMF verdict (src/plan). */
  plan?: PlanSummary;
  /** `--factor auto`: the factors it chooses from, each one tried (in order) with its result, and the one chosen (options.factor). */
  auto?: { factors: number[]; tried: Trial[]; chosen: number };
  /** 2-D weights left as they were and why (too small, unsupported layer, ...). */
  skipped: { weight: string; layer: string; shape: number[]; reason: string }[];
  /** Layers hmf does not know; passed through unchanged. */
  unknownLayers: { layer: string; className: string }[];
  totals: {
    targeted: { paramsBefore: number; paramsAfter: number; factor: number };
    model: { paramsBefore: number; paramsAfter: number; factor: number };
    /** Storage cost in parameters (pruned matrices are stored dense: zeros count). */
    storedParams: { before: number; after: number };
    bytes: { before: SizeReport; after: SizeReport; factorRaw: number; factorGzip: number };
    macs: { before: number; after: number };
  };
  /** `skipped`: batch sizes not timed because they would take too long, and why. */
  /** `threads`: what the backend timed on (see latencyThreads in src/backend.ts). */
  latency: { runs: number; threads: number; batches: BatchLatency[]; skipped: string[] } | null;
  /** --bench-browser: both models timed inside headless Chromium (wasm and webgl), beside Node's `latency`. */
  browserLatency?: BrowserLatencyReport;
  /** `source` 'calibration': the probes are the examples of the --calibration data file. */
  /** `unmeasured`: outputs (or '(all)') whose fidelity could not be measured, and why. */
  fidelity: { probes: number; source: 'generated' | 'calibration'; outputs: OutputFidelity[]; unmeasured: UnmeasuredOutput[] };
  /** --calibration: the data file and what it was used for. */
  /** --finetune: recovery training by distillation (src/finetune). */
  finetune?: FinetuneSummary;
  /** --eval: `evaluate()` of the written model on a labelled data file. */
  eval?: EvalReport;
  calibration?: { path: string; examples: number; matricesWeighted: number; damping: number; note: string | null };
  context: {
    backend: string;
    /** Threads the backend computes on (wasm: its XNNPACK pool; 1 for the single-threaded build). Latency is measured with these. */
    threads: number;
    tfjsVersion: string;
    node: string;
    cpu: string;
    platform: string;
    wallSeconds: number;
    /** Seconds per pipeline phase: read, factorize, rewrite, encode, measure. */
    phases: Record<string, number>;
  };
}
