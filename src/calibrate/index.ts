/** Calibration data (docs/ARCHITECTURE.md §5 `--calibration`): input activations of the target matrices. */
export { collectActivations } from './collect.js';
export {
  Whitening,
  cholesky,
  diagonalGram,
  fullGram,
  gramDiagonal,
  gramOf,
  permuteGram,
  weightedRelativeError,
  weightedSquared,
  DEFAULT_DAMPING,
  type Gram,
} from './gram.js';
