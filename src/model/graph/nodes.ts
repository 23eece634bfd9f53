import { encodeString, type AttrValue, type NodeDef } from './graphdef.js';

/** NodeDefs in the JSON form the TF.js converter writes and `tf.loadGraphModel` reads. */

const FLOAT: AttrValue = { type: 'DT_FLOAT' };
const INT32: AttrValue = { type: 'DT_INT32' };

function dims(shape: readonly number[]): { dim?: { size: string }[] } {
  return shape.length === 0 ? {} : { dim: shape.map((s) => ({ size: String(s) })) };
}

/** A Const whose value is the manifest weight of the same name. */
export function constNode(name: string, shape: readonly number[], dtype: 'DT_FLOAT' | 'DT_INT32'): NodeDef {
  return {
    name,
    op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: dims(shape) } }, dtype: { type: dtype } },
  };
}

/** Whether the op names its transpose attributes adj_x / adj_y (BatchMatMul) or transpose_a / transpose_b. */
export function transposeAttrNames(op: string): [string, string] {
  return op === 'BatchMatMul' || op === 'BatchMatMulV2' ? ['adj_x', 'adj_y'] : ['transpose_a', 'transpose_b'];
}

/**
 * A plain product `a b` with `op` MatMul / BatchMatMul / BatchMatMulV2 (the latter two
 * broadcast a 2-D `b` over the batch axes of `a`). `extra` are trailing control inputs.
 */
export function matMulNode(name: string, op: string, a: string, b: string, transposeA: boolean, t: AttrValue | undefined, extra: readonly string[] = []): NodeDef {
  const [ta, tb] = transposeAttrNames(op);
  return { name, op, input: [a, b, ...extra], attr: { T: t ?? FLOAT, [ta]: { b: transposeA }, [tb]: { b: false } } };
}

/** ConcatV2 of `parts` along `axis` (the name of an int32 scalar Const). */
export function concatNode(name: string, parts: readonly string[], axis: string, t: AttrValue | undefined): NodeDef {
  return { name, op: 'ConcatV2', input: [...parts, axis], attr: { N: { i: String(parts.length) }, T: t ?? FLOAT, Tidx: INT32 } };
}

/** GatherV2 of `x` at `indices` (int32 Const) along `axis` (int32 scalar Const). */
export function gatherNode(name: string, x: string, indices: string, axis: string, t: AttrValue | undefined): NodeDef {
  return {
    name,
    op: 'GatherV2',
    input: [x, indices, axis],
    attr: { Tparams: t ?? FLOAT, Tindices: INT32, Taxis: INT32, batch_dims: { i: '0' } },
  };
}

export function biasAddNode(name: string, x: string, bias: string, t: AttrValue | undefined): NodeDef {
  return { name, op: 'BiasAdd', input: [x, bias], attr: { T: t ?? FLOAT, data_format: { s: encodeString('NHWC') } } };
}

/** The stock op of each activation a _FusedMatMul may carry (fused_ops[1], lower-cased). */
export const ACTIVATION_OPS: ReadonlyMap<string, string> = new Map([
  ['relu', 'Relu'],
  ['relu6', 'Relu6'],
  ['elu', 'Elu'],
  ['selu', 'Selu'],
  ['sigmoid', 'Sigmoid'],
  ['tanh', 'Tanh'],
  ['leakyrelu', 'LeakyRelu'],
  ['prelu', 'Prelu'],
]);

/**
 * The activation `activation` (a key of ACTIVATION_OPS) as its own node;
 * Prelu takes its alpha tensor, LeakyRelu its alpha attribute.
 */
export function activationNode(name: string, activation: string, x: string, t: AttrValue | undefined, alpha: { tensor?: string; value?: number }): NodeDef {
  const op = ACTIVATION_OPS.get(activation);
  if (op === undefined) throw new Error(`graph rewrite: no stock op for fused activation "${activation}"`);
  const node: NodeDef = { name, op, input: [x], attr: { T: t ?? FLOAT } };
  if (op === 'Prelu') {
    if (alpha.tensor === undefined) throw new Error(`graph rewrite: Prelu "${name}" needs its alpha input`);
    node.input = [x, alpha.tensor];
  }
  if (op === 'LeakyRelu') node.attr = { ...node.attr, alpha: { f: alpha.value ?? 0.2 } };
  return node;
}

/** `fused_ops` as the converter stores it: a list of base64 strings. */
export function encodeFusedOps(ops: readonly string[]): AttrValue {
  return { list: { s: ops.map(encodeString) } };
}

/** A _FusedMatMul in the converter's form; `args` are the bias (and Prelu alpha) inputs. */
export function fusedMatMulNode(
  name: string,
  x: string,
  kernel: string,
  args: readonly string[],
  ops: readonly string[],
  options: { transposeA?: boolean; transposeB?: boolean; leakyreluAlpha?: number } = {},
): NodeDef {
  return {
    name,
    op: '_FusedMatMul',
    input: [x, kernel, ...args],
    attr: {
      T: FLOAT,
      transpose_a: { b: options.transposeA ?? false },
      transpose_b: { b: options.transposeB ?? false },
      num_args: { i: String(args.length) },
      epsilon: { f: 0 },
      leakyrelu_alpha: { f: options.leakyreluAlpha ?? 0.2 },
      fused_ops: encodeFusedOps(ops),
    },
  };
}
