// ML Loop's own version (package.json), recorded in every model's metadata and printed by
// `ml-loop --version`. esbuild inlines the JSON in the bundles; tsx reads it from the sources.
import { version } from '../../../package.json';

export const mlloopVersion: string = version;
