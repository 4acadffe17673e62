// A training process for the interrupted-run test: trains one experiment and prints the run id
// and each step on stdout, so the test can SIGKILL it mid-run.
import { trainExperiment } from '../../../src/core/experiment/trainExperiment';

const [projectDir, experimentName] = process.argv.slice(2);
void trainExperiment({
  projectDir,
  experimentName,
  onRunCreated: (runId) => process.stdout.write(`run ${runId}\n`),
  onProgress: (e) => process.stdout.write(`step ${e.step}\n`),
}).then((o) => process.stdout.write(`done ${o.status}\n`));
