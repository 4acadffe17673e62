// Monitoring alerts: which thresholds a MonitoringReport crosses (data drift, prediction drift,
// embedding drift of an image model, a drop of live accuracy below the dev score), and the once-per-window rule for notifications: an
// alert of a deployment is notified once in an editor window (a toast the user dismissed does not
// come back on the next refresh), until the deployment is forgotten (stopped or restarted). The
// badge and the Problems entry follow the current state; only notifications are rationed.
import type { MonitoringReport } from './types';

export type AlertKind = 'data-drift' | 'prediction-drift' | 'embedding-drift' | 'accuracy-drop';

export interface MonitoringAlert {
  deployment: string;
  kind: AlertKind;
  /** One line for the notification and the Problems entry. */
  message: string;
  /** Features that drifted (data drift), worst first. */
  features?: string[];
}

export interface AlertOptions {
  /** Live accuracy this far below dev (accuracy points, or relative RMSE increase) raises an alert. Default 0.05. */
  accuracyDrop?: number;
}

export const DEFAULT_ACCURACY_DROP = 0.05;

function pct(v: number): string {
  return `${(v * 100).toFixed(1)} %`;
}

/** The alerts a report raises, most serious first. */
export function alertsOf(deployment: string, r: MonitoringReport, opts: AlertOptions = {}): MonitoringAlert[] {
  const out: MonitoringAlert[] = [];
  const drop = opts.accuracyDrop ?? DEFAULT_ACCURACY_DROP;
  const live = r.live;
  if (live && live.dev !== undefined && live.labelled > 0) {
    const worse = live.metric === 'accuracy' ? live.dev - live.value > drop : live.value > live.dev * (1 + drop);
    if (worse) {
      const text =
        live.metric === 'accuracy'
          ? `${pct(live.value)} vs ${pct(live.dev)} on dev`
          : `RMSE ${live.value.toPrecision(4)} vs ${live.dev.toPrecision(4)} on dev`;
      out.push({
        deployment,
        kind: 'accuracy-drop',
        message: `${deployment}: live ${live.metric} dropped to ${text} (${live.labelled} labelled requests)`,
      });
    }
  }
  if (r.dataset.drift) {
    const drifted = [...r.features]
      .filter((f) => f.drifted)
      .sort((a, b) => b.score - a.score)
      .map((f) => f.name);
    const names = drifted.slice(0, 5).join(', ') + (drifted.length > 5 ? `, +${drifted.length - 5} more` : '');
    out.push({
      deployment,
      kind: 'data-drift',
      features: drifted,
      message: `${deployment}: data drift in ${r.dataset.drifted} of ${r.dataset.total} features (${pct(r.dataset.share)}, threshold ${pct(r.dataset.threshold)}): ${names}`,
    });
  }
  if (r.embedding?.drifted) {
    // What changed in the pictures, when the properties say (brightness, contrast, …).
    const drifted = r.features.filter((f) => f.drifted).map((f) => f.name);
    out.push({
      deployment,
      kind: 'embedding-drift',
      ...(drifted.length ? { features: drifted } : {}),
      message: `${deployment}: the model sees the production images differently from the training images (domain classifier ROC AUC ${r.embedding.rocAuc.toFixed(3)} > ${r.embedding.threshold.toFixed(3)})${drifted.length ? `; drifted image properties: ${drifted.slice(0, 5).join(', ')}` : ''}`,
    });
  }
  if (r.prediction?.drifted) {
    out.push({
      deployment,
      kind: 'prediction-drift',
      message: `${deployment}: the predictions drifted from those on dev (${r.prediction.test} ${r.prediction.pValue !== undefined ? `p = ${r.prediction.pValue.toExponential(2)}` : r.prediction.statistic.toFixed(3)})`,
    });
  }
  return out;
}

/** Remembers, per deployment and alert kind, that it was notified. */
export class AlertThrottle {
  private readonly notified = new Set<string>();

  /**
   * Whether `alert` should be notified for a report over `window`, and if so records it: once per
   * deployment and kind. A window without times (no requests) never notifies.
   */
  shouldNotify(alert: Pick<MonitoringAlert, 'deployment' | 'kind'>, window: MonitoringReport['window']): boolean {
    if (!window.from || !window.to) return false;
    const key = `${alert.deployment}\u0000${alert.kind}`;
    if (this.notified.has(key)) return false;
    this.notified.add(key);
    return true;
  }

  /** Forget a deployment (stopped, or its alerts dismissed for good). */
  forget(deployment: string): void {
    for (const k of [...this.notified]) if (k.startsWith(`${deployment}\u0000`)) this.notified.delete(k);
  }
}
