// dist/server.js: the inference server process the extension starts (never inside the extension host).
// Same options as `ml-loop serve`; SIGTERM or SIGINT drain in-flight requests, then the process exits.
import { serveCommand } from '../cli/commands/serve';

const interrupt = new AbortController();
process.once('SIGINT', () => interrupt.abort());
// The extension host going away closes stdin's pipe: stop rather than linger as an orphan.
if (process.env.MLLOOP_SERVER_PARENT_PIPE === '1') process.stdin.on('end', () => interrupt.abort()).resume();
serveCommand
  .run(process.argv.slice(2), {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    cwd: process.cwd(),
    signal: interrupt.signal,
  })
  .then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`ml-loop server: ${(e as Error).message}\n`);
      process.exit(2);
    },
  );
