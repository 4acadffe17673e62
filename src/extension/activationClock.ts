// Imported first by extension.ts so that this timestamp is taken before any other module of the
// bundle is evaluated: activation time = module load → end of activate().
export const moduleLoadedAt = performance.now();
