// The WebAssembly kernels ship as base64 text in generated modules (build-wasm.mjs). Each is compiled
// once, synchronously (a few kilobytes), on first use.

const compiled = new Map<string, WebAssembly.Module | null>();

/** The kernel compiled from its base64 bytes, or null where this runtime lacks what it needs (SIMD, threads, bulk memory). */
export function compileKernel(base64: string): WebAssembly.Module | null {
  let module = compiled.get(base64);
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0)));
    } catch {
      module = null;
    }
    compiled.set(base64, module);
  }
  return module;
}
