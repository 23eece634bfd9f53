/**
 * TF.js for the whole project, loaded with require().
 *
 * Node's ESM `import` of a CommonJS package first lexes its source, and that of every
 * package it re-exports, for export names: ~300 ms for TF.js at every start of hmf
 * (measured: import 440 ms, require 120 ms), more than the rest of compressing a small
 * model. Same module instance either way (Node's CommonJS cache).
 *
 * The namespace below carries the types the code names as `tf.X`; the const carries
 * every value. Add a type here when code needs a new one.
 */
import { createRequire } from 'node:module';
import type * as Tf from '@tensorflow/tfjs';

export const tf = createRequire(import.meta.url)('@tensorflow/tfjs') as typeof Tf;

// A namespace of types only merges with the const of the same name.
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace tf {
  type Rank = Tf.Rank;
  type Tensor<R extends Tf.Rank = Tf.Rank> = Tf.Tensor<R>;
  type Scalar = Tf.Scalar;
  type Tensor1D = Tf.Tensor1D;
  type Tensor2D = Tf.Tensor2D;
  type Tensor3D = Tf.Tensor3D;
  type Tensor4D = Tf.Tensor4D;
  type Variable<R extends Tf.Rank = Tf.Rank> = Tf.Variable<R>;
  type TensorInfo = Tf.TensorInfo;
  type DataType = Tf.DataType;
  type Shape = Tf.Shape;
  type SymbolicTensor = Tf.SymbolicTensor;
  type LayerVariable = Tf.LayerVariable;
  type LayersModel = Tf.LayersModel;
  type Sequential = Tf.Sequential;
  type GraphModel = Tf.GraphModel;
  type RNN = Tf.RNN;
  type AdamOptimizer = Tf.AdamOptimizer;
  type SimpleRNNLayerArgs = Tf.SimpleRNNLayerArgs;
  type SimpleRNNCellLayerArgs = Tf.SimpleRNNCellLayerArgs;
  type LSTMLayerArgs = Tf.LSTMLayerArgs;
  type LSTMCellLayerArgs = Tf.LSTMCellLayerArgs;
  type GRULayerArgs = Tf.GRULayerArgs;
  type GRUCellLayerArgs = Tf.GRUCellLayerArgs;
  namespace layers {
    type Layer = Tf.layers.Layer;
  }
  namespace io {
    type ModelArtifacts = Tf.io.ModelArtifacts;
    type ModelJSON = Tf.io.ModelJSON;
    type WeightsManifestEntry = Tf.io.WeightsManifestEntry;
    type IOHandler = Tf.io.IOHandler;
    type SaveResult = Tf.io.SaveResult;
    type CompositeArrayBuffer = Tf.io.CompositeArrayBuffer;
  }
  namespace serialization {
    type ConfigDict = Tf.serialization.ConfigDict;
    type Serializable = Tf.serialization.Serializable;
    type SerializableConstructor<T extends Tf.serialization.Serializable> = Tf.serialization.SerializableConstructor<T>;
    type SerializationMap = Tf.serialization.SerializationMap;
  }
}
