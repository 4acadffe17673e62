// The seeded generator lives in src/core/data/prng.ts; re-exported for the modules importing it from here.
export { mulberry32 } from '../../data/prng';
