// The data-level checks of one project, as the diagnostics run them off the extension host thread
// (src/worker/checkProject.ts): loadProject (data file exists, target and features are columns,
// the split leaves dev rows, one-class target, ragged rows, non-numeric values, non-UTF-8, each at
// its line) and, when the data loads without error, the profile's findings located in mlloop.json.
// No editor import: it runs in a worker thread and in plain Node tests.
import { profileFindingsToProblems, profileProject } from '../data/profile';
import { hasErrors, loadProject } from './loadProject';
import type { Problem } from '../spec/problems';

export interface ProjectCheckRequest {
  /** Folder holding mlloop.json. */
  projectDir: string;
  /** Also profile the data and report its findings (duplicates, leakage, constant columns…). */
  profile: boolean;
}

export interface ProjectCheckResult {
  /** False when mlloop.json on disk does not parse or fails the schema (`problems` then holds
   *  only those; the diagnostics take them from the editor's text instead). */
  specValid: boolean;
  problems: Problem[];
  /** The mlloop.json text the problems are located in. */
  projectText?: string;
  /** Absolute path of the data file, when the spec names one. */
  dataFile?: string;
  /** Set when profiling failed for a reason other than bad data (the load problems still hold). */
  profileError?: string;
}

export async function checkProject(req: ProjectCheckRequest): Promise<ProjectCheckResult> {
  const loaded = await loadProject(req.projectDir);
  // An invalid spec: its schema problems, and those of its data when "data" itself is valid.
  if (!loaded.spec) return { specValid: false, problems: loaded.problems, projectText: loaded.text, ...(loaded.dataFile ? { dataFile: loaded.dataFile } : {}) };
  const result: ProjectCheckResult = { specValid: true, problems: loaded.problems, projectText: loaded.text, dataFile: loaded.dataFile };
  if (req.profile && loaded.data && !hasErrors(loaded.problems)) {
    try {
      const profile = await profileProject(req.projectDir);
      const known = new Set(loaded.problems.map((p) => `${p.code}|${p.message}`));
      for (const p of profileFindingsToProblems(profile, loaded.file, loaded.text ?? '')) {
        if (!known.has(`${p.code}|${p.message}`)) result.problems.push(p);
      }
    } catch (e) {
      result.profileError = e instanceof Error ? e.message : String(e);
    }
  }
  return result;
}
