export { lmf, lmfRank, factorsFromSvd, type LmfOptions } from './lmf.js';
export { hmf, hybridRank, chooseHybrid, type HmfOptions, type HybridCandidate } from './hmf.js';
export { HybridEstimator } from './estimate.js';
export { pruneLayer, pruneGlobal, pruneStats } from './prune.js';
export { energyKept, spectrumReport, type SpectrumPoint } from './spectrum.js';
export type { MethodName, OutputSelection, LowRankFactors, HybridFactors, PrunedMatrix, Compressed } from './types.js';
