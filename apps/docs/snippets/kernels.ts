import { createReferenceBackend, type KernelBackend, randomTensor } from '@dspy-ts/smt';

// Every backend implements the same KernelBackend interface over plain Float32Arrays (row-major).
const backend: KernelBackend = createReferenceBackend();

const [m, k, n] = [64, 128, 32];
const a = randomTensor(m * k, 1); // seeded: the same values on every backend and run
const b = randomTensor(k * n, 2);

const c = backend.matmul(a, b, m, k, n); // [64, 128] · [128, 32] → [64, 32]
const cT = backend.matmul(a, randomTensor(n * k, 3), m, k, n, { transB: true }); // B stored as [32, 128]

const weight = new Float32Array(n).fill(1);
const { y } = backend.rmsnormForward(c, weight, m, n, 1e-5);

console.log(backend.name, c.length, cT.length, y.length); // reference 2048 2048 2048
