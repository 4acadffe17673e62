export interface LocalSlurmCluster {
  /** The cluster's temp folder (slurm.conf, state, logs). */
  state: string;
  /** Its slurm.conf, also set as SLURM_CONF in this process's environment. */
  conf: string;
  host: string;
  /** Ends the daemons and removes the folder. */
  stop(): void;
}
export function slurmInstalled(): boolean;
export function startSlurmCluster(): Promise<LocalSlurmCluster>;
export function stopSlurmCluster(state: string, alsoMunge?: boolean): void;
