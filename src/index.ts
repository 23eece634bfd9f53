/** The hmf library API (docs/ARCHITECTURE.md §7). */
export { compress, defaultOutDir, type CompressOptions, type CompressResult } from './compress.js';
export { sweep, SWEEP_SCHEMA_VERSION, type SweepOptions, type SweepReport, type SweepRow } from './sweep.js';
export { evaluate, EVAL_SCHEMA_VERSION, type EvalOptions, type EvalReport } from './eval.js';
export { bench, type BenchOptions, type BenchReport } from './bench.js';
export { inspect, type InspectOptions, type InspectReport, type InspectedMatrix } from './inspect.js';
export { readModel as loadModel, writeModel as saveModel, fileLoader, toArtifacts } from './io/index.js';
export type { ModelFile, Weight, WriteOptions } from './io/index.js';
export { initBackend, type BackendName } from './backend.js';
export { HmfError, ModelFormatError, QualityGateError, TargetUnreachableError, UsageError } from './errors.js';
export type { Report, MatrixReport } from './report/schema.js';
export type { PlanSummary, Allocation, Objective } from './plan/index.js';
export type { MethodName, OutputSelection } from './methods/types.js';
