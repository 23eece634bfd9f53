import { initBackend, type BackendName } from './backend.js';
import { readModel, type ModelFile, type Weight } from './io/index.js';
import type { Matrix } from './linalg/matrix.js';
import { energyKept } from './methods/index.js';
import { scanTargets, type TargetMatrix } from './model/targets.js';
import { layerName, parseLayersTopology } from './model/topology.js';
import { matrixBudget } from './plan/budget.js';
import { finiteTarget, graphAdapter } from './model/adapter.js';

export const INSPECT_FACTORS = [2, 4, 8] as const;

export interface InspectOptions {
  /** Matrices with fewer parameters would stay dense. @default 4096 */
  minParams?: number;
  /** Seed of the randomized SVD. @default 0 */
  seed?: number;
  /** @default the fastest that loads */
  backend?: BackendName;
}

export interface InspectedMatrix {
  weight: string;
  layer: string;
  shape: number[];
  /** Convolutions: the kernel as stored; `shape` is its (kh·kw·cin) x cout matrix. */
  kernelShape?: number[];
  params: number;
  /** Whether `hmf compress` would compress it. */
  compressed: boolean;
  /** Why not, when it would not. */
  reason: string | null;
  /** Fraction of ||K||_F² kept at factors 2, 4, 8 (null where the factor is out of reach). */
  energyKept: { factor: number; lmf: number | null; hmf: number | null }[] | null;
}

export interface InspectReport {
  model: { path: string; format: string; className: string };
  layers: { name: string; className: string; params: number }[];
  matrices: InspectedMatrix[];
  params: number;
}

/** What `hmf inspect` shows: layers, matrices, what would be compressed, and spectra. */
export async function inspect(modelPath: string, options: InspectOptions = {}): Promise<InspectReport> {
  await initBackend(options.backend);
  const minParams = options.minParams ?? 4096;
  const seed = options.seed ?? 0;
  const model = await readModel(modelPath);
  const params = model.weights.reduce((s, w) => s + count(w), 0);
  const className = String((model.json.modelTopology as { class_name?: string } | undefined)?.class_name ?? model.format);
  const graphModel = model.format === 'graph-model';
  const adapter = graphModel ? graphAdapter(model, minParams) : null;
  const scan = adapter ?? scanTargets(parseLayersTopology(model.json.modelTopology, model.path), model.weights, minParams);
  const layers = graphModel ? [] : layerRows(model);
  const byName = new Map(model.weights.map((w) => [w.name, w]));
  // K as y = x K uses it (a graph Const may be stored transposed).
  const matrixOf = (t: TargetMatrix): Matrix =>
    adapter ? adapter.matrix(t) : finiteTarget({ rows: t.rows, cols: t.cols, data: byName.get(t.weight)!.values as Float32Array }, t, model.path);
  const matrices: InspectedMatrix[] = [
    ...scan.targets.map((t) => {
      const k = matrixOf(t);
      return {
        weight: t.weight,
        layer: t.layer,
        shape: [t.rows, t.cols],
        ...(t.conv ? { kernelShape: byName.get(t.weight)!.shape } : {}),
        params: t.rows * t.cols,
        compressed: true,
        reason: null,
        energyKept: INSPECT_FACTORS.map((factor) => {
          const budget = matrixBudget(t, factor);
          return { factor, lmf: energyKept(k, budget, 'lmf', seed), hmf: energyKept(k, budget, 'hmf', seed) };
        }),
      };
    }),
    ...scan.skipped.map((s) => ({
      weight: s.weight,
      layer: s.layer,
      shape: s.shape,
      params: s.shape.reduce((a, b) => a * b, 1),
      compressed: false,
      reason: s.reason,
      energyKept: null,
    })),
  ];
  return { model: { path: model.path, format: model.format, className }, layers, matrices, params };
}

function layerRows(model: ModelFile): InspectReport['layers'] {
  const graph = parseLayersTopology(model.json.modelTopology, model.path);
  return graph.layers.map((l) => {
    const name = layerName(l);
    const own = model.weights.filter((w) => w.name === name || w.name.startsWith(`${name}/`) || w.name.includes(`/${name}/`));
    return { name, className: l.class_name, params: own.reduce((s, w) => s + count(w), 0) };
  });
}

function count(w: Weight): number {
  return w.shape.reduce((a, b) => a * b, 1);
}
