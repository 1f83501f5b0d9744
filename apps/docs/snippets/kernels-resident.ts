import { type BlockIndex, createWasmBackend, randomTensor } from '@dspy-ts/smt';

// The wasm backend copies plain Float32Array inputs into its own memory on every call. Arrays from allocate()
// live there already: kernels read them (and their subarrays) in place.
const backend = await createWasmBackend({ threads: 2 });
const [m, outDim, inDim, bs] = [256, 512, 512, 64];
const g = backend.allocate(m * outDim); // dL/dy of a linear layer, [m, outDim]
const x = backend.allocate(m * inDim); // its input, [m, inDim]
g.set(randomTensor(g.length, 1)); // write into them like any Float32Array
x.set(randomTensor(x.length, 2));

// Sparse Matrix Tuning's weight gradient for two 64×64 blocks: work in proportion to the blocks, no 1 MiB copy-in.
const blocks: BlockIndex[] = [
  { rowBlock: 0, colBlock: 3 },
  { rowBlock: 5, colBlock: 1 },
];
const dS = backend.blockSparseWeightGrad(g, x, m, outDim, inDim, blocks, bs); // a plain array, [2, 64, 64]

console.log(backend.isResident(g), backend.isResident(dS), dS.length); // true false 8192
backend.release(g);
backend.release(x);
await backend.dispose();
