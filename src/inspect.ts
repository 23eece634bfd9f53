import { initBackend, type BackendName } from './backend.js';
import { readModel, type Weight } from './io/index.js';
import { energyKept } from './methods/index.js';
import { scanTargets } from './model/targets.js';
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
  if (model.format !== 'layers-model') {
    const adapter = graphAdapter(model, minParams);
    return {
      model: { path: model.path, format: model.format, className },
      layers: [],
      matrices: [
        ...adapter.targets.map((t) => {
          const k = adapter.matrix(t);
          return {
            weight: t.weight,
            layer: t.layer,
            shape: [t.rows, t.cols],
            params: t.rows * t.cols,
            compressed: true,
            reason: null,
            energyKept: INSPECT_FACTORS.map((factor) => {
              const budget = matrixBudget(t, factor);
              return { factor, lmf: energyKept(k, budget, 'lmf', seed), hmf: energyKept(k, budget, 'hmf', seed) };
            }),
          };
        }),
        ...adapter.skipped.map((sk) => ({ weight: sk.weight, layer: sk.layer, shape: sk.shape, params: sk.shape.reduce((a, b) => a * b, 1), compressed: false, reason: sk.reason, energyKept: null })),
      ],
      params,
    };
  }
  const graph = parseLayersTopology(model.json.modelTopology, model.path);
  const scan = scanTargets(graph, model.weights, minParams);
  const layers = graph.layers.map((l) => {
    const name = layerName(l);
    const own = model.weights.filter((w) => w.name === name || w.name.startsWith(`${name}/`) || w.name.includes(`/${name}/`));
    return { name, className: l.class_name, params: own.reduce((s, w) => s + count(w), 0) };
  });
  const byName = new Map(model.weights.map((w) => [w.name, w]));
  const matrices: InspectedMatrix[] = [
    ...scan.targets.map((t) => {
      const k = finiteTarget({ rows: t.rows, cols: t.cols, data: byName.get(t.weight)!.values as Float32Array }, t, model.path);
      return {
        weight: t.weight,
        layer: t.layer,
        shape: [t.rows, t.cols],
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

function count(w: Weight): number {
  return w.shape.reduce((a, b) => a * b, 1);
}
