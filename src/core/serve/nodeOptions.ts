// Node options of an inference server process (the extension's deployments, bench:server), in a module
// of its own so the extension host can read them without loading the server.
//
// V8 sets the old generation's next collection limit from the live heap, which for this server is
// small (~11 MB): under load the request buffers (external memory) kept the heap at that limit, and every
// few dozen requests cost a full mark-compact (gRPC with 128 KiB requests: ~0.4 ms of CPU a request,
// measured with --trace-gc). A larger initial limit leaves them to the cheap young-generation
// collections. V8 reads it when the process starts only (v8.setFlagsFromString is too late).
export const SERVER_NODE_OPTIONS: readonly string[] = ['--initial-old-space-size=64'];
