/** Seeded vector data sets shared by the retrieval benchmark scripts. */

/** Seeded PRNG (mulberry32) so every run sees the same data. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

function normalise(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

/** Unit vectors with Gaussian components, i.e. uniform on the sphere: the worst case for graph indexes. */
export function uniformUnitVectors(n: number, dims: number, seed: number): Float32Array[] {
  const next = random(seed);
  return Array.from({ length: n }, () => normalise(Float32Array.from({ length: dims }, () => gaussian(next))));
}

/** Shape of {@link clusteredUnitVectors}. */
export interface MixtureShape {
  /** Number of Gaussian components (topics). */
  clusters: number;
  /** Directions each component spreads along (its intrinsic dimension). */
  rank: number;
  /** Standard deviation of the spread along each direction, per coordinate (the centre's is 1). */
  spread: number;
  /** Standard deviation of the isotropic noise added to every coordinate. */
  noise: number;
}

/** Default mixture: 100 topics, each a 16-dimensional Gaussian plus 5 % isotropic noise. */
export const DEFAULT_MIXTURE: MixtureShape = { clusters: 100, rank: 16, spread: 0.25, noise: 0.05 };

/** Isotropic mixture: 100 topics, each an isotropic Gaussian as wide as the centre (intra-cluster cosine ≈ 0.5). */
export const ISOTROPIC_MIXTURE: MixtureShape = { clusters: 100, rank: 0, spread: 0, noise: 1 };

/**
 * An embedding-like data set: a Gaussian mixture projected onto the unit sphere. Component c has a random centre
 * μ_c (standard normal coordinates) and `rank` random axes a_cj (normal coordinates with standard deviation
 * `spread`); a point is normalise(μ_c + Σ_j z_j a_cj + ε) with z ~ N(0, I) and ε ~ N(0, noise² I). The components
 * (the mixture's `seed`) are fixed by `mixtureSeed`, so data and queries drawn with different `seed`s come from the
 * same mixture. Sentence embeddings share the two properties this has and uniform vectors lack: clusters, and a
 * low intrinsic dimension within each.
 */
export function clusteredUnitVectors(
  n: number,
  dims: number,
  seed: number,
  shape: MixtureShape = DEFAULT_MIXTURE,
  mixtureSeed = 7,
): Float32Array[] {
  const build = random(mixtureSeed);
  const components = Array.from({ length: shape.clusters }, () => ({
    centre: Float32Array.from({ length: dims }, () => gaussian(build)),
    axes: Array.from({ length: shape.rank }, () =>
      Float32Array.from({ length: dims }, () => gaussian(build) * shape.spread),
    ),
  }));
  const next = random(seed);
  return Array.from({ length: n }, () => {
    const { centre, axes } = components[Math.floor(next() * shape.clusters)]!;
    const v = Float32Array.from(centre, (c) => c + gaussian(next) * shape.noise);
    for (const axis of axes) {
      const z = gaussian(next);
      for (let i = 0; i < dims; i++) v[i]! += z * axis[i]!;
    }
    return normalise(v);
  });
}

/** A named data set and its queries (fresh draws from the same distribution, not stored vectors). */
export function dataset(
  name: string,
  n: number,
  q: number,
  dims: number,
): { data: Float32Array[]; queries: Float32Array[]; description: string } {
  if (name === 'uniform') {
    return {
      data: uniformUnitVectors(n, dims, 1),
      queries: uniformUnitVectors(q, dims, 2),
      description: 'random unit vectors (uniform on the sphere)',
    };
  }
  if (name === 'clustered') {
    const { clusters, rank, spread, noise } = DEFAULT_MIXTURE;
    return {
      data: clusteredUnitVectors(n, dims, 1),
      queries: clusteredUnitVectors(q, dims, 2),
      description:
        `clustered unit vectors (Gaussian mixture on the sphere: ${clusters} components, each of rank ${rank}, ` +
        `spread ${spread}, noise ${noise})`,
    };
  }
  if (name === 'isotropic') {
    // Clusters without low-dimensional structure: within a component the points are again uniform in all directions.
    const shape = ISOTROPIC_MIXTURE;
    return {
      data: clusteredUnitVectors(n, dims, 1, shape),
      queries: clusteredUnitVectors(q, dims, 2, shape),
      description: `isotropic clusters (Gaussian mixture on the sphere: ${shape.clusters} components, noise ${shape.noise})`,
    };
  }
  throw new Error(`unknown data set "${name}": expected uniform, clustered or isotropic`);
}
