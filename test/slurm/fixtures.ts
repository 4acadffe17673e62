// The training script of the cluster tests (slurm tier and e2e): a small Node script, so the node
// needs no Python. It logs metric lines like a real trainer and hands back the fixture model.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeScript, scoresModel } from '../unit/scripts/fixtures';

/** A training script (one file per variant): `steps` metric lines, `delayMs` apart, then the fixture model (or an exit code). */
export function trainer(dir: string, opts: { steps?: number; delayMs?: number; exit?: number } = {}): string[] {
  const file = `train-${opts.steps ?? 3}-${opts.delayMs ?? 700}-${opts.exit ?? 0}.js`;
  writeFileSync(join(dir, 'fixture.onnx'), scoresModel());
  return nodeScript(
    dir,
    file,
    `const fs = require('fs'), path = require('path');
     const steps = ${opts.steps ?? 3}, delay = ${opts.delayMs ?? 700};
     const lr = JSON.parse(fs.readFileSync(process.env.MLLOOP_PARAMS, 'utf8')).lr ?? 0;
     let i = 0;
     const tick = () => {
       i++;
       console.log(JSON.stringify({ mlloop: 'metric', step: i, total_steps: steps, train_loss: 1 / i + lr, dev_accuracy: 0.5 + i / 100 }));
       if (i < steps) return setTimeout(tick, delay);
       if (${opts.exit ?? 0}) { console.error('boom: the trainer gave up'); process.exit(${opts.exit ?? 0}); }
       fs.copyFileSync(path.join(${JSON.stringify(dir)}, 'fixture.onnx'), path.join(process.env.MLLOOP_RUN_DIR, 'model.onnx'));
     };
     setTimeout(tick, delay);`,
  );
}
