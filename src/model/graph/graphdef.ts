import { ModelFormatError } from '../../errors.js';

/** A dimension as the converter writes it (int64 as a decimal string). */
export interface DimJson {
  size?: string | number;
}

/** One attribute of a NodeDef, in the JSON form of TensorFlow's AttrValue proto. */
export interface AttrValue {
  b?: boolean;
  i?: string | number;
  f?: number;
  /** Base64 of the UTF-8 bytes. */
  s?: string;
  type?: string;
  shape?: { dim?: DimJson[]; unknownRank?: boolean };
  tensor?: { dtype?: string; tensorShape?: { dim?: DimJson[] } };
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
  func?: unknown;
}

export interface NodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
  device?: string;
}

/** `modelTopology` of a graph model: a GraphDef. Unknown keys are kept. */
export interface GraphDef {
  node: NodeDef[];
  library?: { function?: { signature?: { name?: string }; nodeDef?: NodeDef[] }[] };
  versions?: unknown;
}

/** Checks that `topology` is a GraphDef with a node list; `path` names the file in errors. */
export function parseGraphDef(topology: unknown, path: string): GraphDef {
  if (topology === null || typeof topology !== 'object' || Array.isArray(topology)) {
    throw new ModelFormatError(`${path}: expected modelTopology to be a GraphDef object, found ${JSON.stringify(topology)?.slice(0, 40)}`);
  }
  const nodes = (topology as { node?: unknown }).node ?? [];
  if (!Array.isArray(nodes)) throw new ModelFormatError(`${path}: expected modelTopology.node to be a list of nodes`);
  for (const [i, n] of nodes.entries()) {
    const node = n as Partial<NodeDef> | null;
    if (!node || typeof node.name !== 'string' || typeof node.op !== 'string') {
      throw new ModelFormatError(`${path}: modelTopology.node[${i}]: expected an object with string "name" and "op"`);
    }
    if (node.input !== undefined && (!Array.isArray(node.input) || node.input.some((s) => typeof s !== 'string'))) {
      throw new ModelFormatError(`${path}: node "${node.name}": expected "input" to be a list of strings`);
    }
  }
  return { ...(topology as GraphDef), node: nodes as NodeDef[] };
}

/** The node an input reference points at: `^ctrl` -> `ctrl`, `x:1` -> `x`, `op:out:0` -> `op`. */
export function inputNodeName(ref: string): string {
  const name = ref.startsWith('^') ? ref.slice(1) : ref;
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(0, colon);
}

export function isControlInput(ref: string): boolean {
  return ref.startsWith('^');
}

export function decodeString(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

export function encodeString(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

export function boolAttr(node: NodeDef, name: string): boolean {
  return node.attr?.[name]?.b === true;
}

export function numberAttr(node: NodeDef, name: string, fallback: number): number {
  const a = node.attr?.[name];
  const v = a?.i ?? a?.f;
  if (v === undefined) return fallback;
  return typeof v === 'number' ? v : Number(v);
}

export function stringListAttr(node: NodeDef, name: string): string[] {
  return (node.attr?.[name]?.list?.s ?? []).map(decodeString);
}

/** Input reference -> the nodes reading it (control inputs included), over the top-level graph. */
export function consumersOf(graph: GraphDef): Map<string, string[]> {
  const consumers = new Map<string, string[]>();
  for (const node of graph.node) {
    for (const ref of node.input ?? []) {
      const from = inputNodeName(ref);
      const list = consumers.get(from);
      if (list) list.push(node.name);
      else consumers.set(from, [node.name]);
    }
  }
  return consumers;
}
