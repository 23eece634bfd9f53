export { scanGraph, graphKernel, MATMUL_OPS, type GraphTarget, type GraphSkipped, type GraphScan } from './scan.js';
export { rewriteGraph, type GraphRewrite } from './rewrite.js';
export { graphInputSignatures, type GraphInputSignature } from './signature.js';
