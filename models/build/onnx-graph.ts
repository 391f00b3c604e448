/**
 * A small ONNX graph writer: collects inputs, outputs, initializers and nodes with unique
 * names, then serializes a `ModelProto` through protobufjs. Node outputs get generated names,
 * so graph code reads like the computation it describes.
 */
import { ATTRIBUTE_TYPE, ModelProto, ONNX_DTYPE, type OnnxDtype } from './onnx-proto.js';

/** A tensor dimension: a fixed size or a symbolic name (`batch_size`, `sequence_length`). */
export type Dim = number | string;

/** An attribute value; arrays are `ints`, `Uint8Array` is a string. */
export type AttributeValue = number | readonly number[] | string | { float: number };

/** Typed data of an initializer; `Uint16Array` holds IEEE float16 bit patterns. */
export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

interface TensorMessage {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

interface ValueInfoMessage {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: ({ dimValue: number } | { dimParam: string })[] } } };
}

interface NodeMessage {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

function valueInfo(name: string, dtype: OnnxDtype, dims: readonly Dim[]): ValueInfoMessage {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: ONNX_DTYPE[dtype], shape: { dim } } } };
}

function attribute(name: string, value: AttributeValue): Record<string, unknown> {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    return { name, type: ATTRIBUTE_TYPE.int, i: value };
  }
  if (typeof value === 'string') return { name, type: ATTRIBUTE_TYPE.string, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: ATTRIBUTE_TYPE.float, f: value.float };
  return { name, type: ATTRIBUTE_TYPE.ints, ints: [...value] };
}

function dtypeOf(data: TensorData): OnnxDtype {
  if (data instanceof Float32Array) return 'float';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint16Array) return 'float16';
  return 'uint8';
}

/** Builds one ONNX graph. */
export class GraphBuilder {
  private readonly nodes: NodeMessage[] = [];
  private readonly inputs: ValueInfoMessage[] = [];
  private readonly outputs: ValueInfoMessage[] = [];
  private readonly initializers: TensorMessage[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  private fresh(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, dtype: OnnxDtype, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.fresh(name), dtype, dims));
    return name;
  }

  /** Declares `value` as a graph output named `name` (through an Identity when renamed). */
  output(value: string, name: string, dtype: OnnxDtype, dims: readonly Dim[]): void {
    if (value !== name) this.node('Identity', [value], { name });
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** Adds a constant tensor; its element type follows the typed array. */
  initializer(hint: string, dims: readonly number[], data: TensorData): string {
    const name = this.fresh(hint);
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims: [...dims], dataType: ONNX_DTYPE[dtypeOf(data)], rawData });
    return name;
  }

  /** A float32 scalar or 1-D constant. */
  floats(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(hint, dims, Float32Array.from(values));
  }

  /** An int64 scalar or 1-D constant (shapes, axes, indices). */
  ints(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.initializer(hint, dims, BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /**
   * Adds a node and returns its outputs' names.
   * @param options.name hint for the (first) output's name; `outputs` for several outputs.
   */
  nodeN(
    opType: string,
    inputs: readonly string[],
    options: { outputs: number; name?: string; attrs?: Record<string, AttributeValue>; domain?: string },
  ): string[] {
    const base = options.name ?? opType.toLowerCase();
    const output = Array.from({ length: options.outputs }, (_, i) => this.fresh(i === 0 ? base : `${base}_out${i}`));
    this.nodes.push({
      name: this.fresh(`node_${base}`),
      opType,
      domain: options.domain ?? '',
      input: [...inputs],
      output,
      attribute: Object.entries(options.attrs ?? {}).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** Adds a single-output node and returns its output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    options: { name?: string; attrs?: Record<string, AttributeValue>; domain?: string } = {},
  ): string {
    const [out] = this.nodeN(opType, inputs, { ...options, outputs: 1 });
    return out as string;
  }

  /** Serializes the graph as a model with the given opset imports. */
  serialize(options: {
    graphName: string;
    producer: string;
    docString: string;
    opsets: Readonly<Record<string, number>>;
    metadata?: Readonly<Record<string, string>>;
  }): Uint8Array {
    const message = ModelProto.fromObject({
      irVersion: 8,
      producerName: options.producer,
      producerVersion: '1',
      docString: options.docString,
      opsetImport: Object.entries(options.opsets).map(([domain, version]) => ({ domain, version })),
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: options.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return ModelProto.encode(message).finish();
  }
}
