// Messages of the Monitoring panel (webview/monitoring ⇄ src/extension/monitoring/monitoringPanel.ts).
// The host sends complete snapshots: the deployment, its latest MonitoringReport (computed in a child
// process), the alerts it raises, and the promotion gate of the last Retrain with Production Data.
import type { MonitoringReport } from '../core/monitor/types';
import type { PromotionComparison } from '../core/update/gate';
import type { ProductionDataSummary } from '../core/update/retrain';
import type { MonitoringAlert } from '../core/monitor/alerts';
import { hasType, isArrayOf, isRecord, isReadyMessage, type ReadyMessage } from './common';

export interface DeploymentView {
  name: string;
  projectDir: string;
  url: string;
  running: boolean;
  logging: boolean;
  production: string | null;
  candidate: string | null;
  previousProduction: string | null;
  /** version → run id. */
  runs: Record<string, string | null>;
}

export interface GateView {
  productionRunId: string;
  candidateRunId: string;
  /** The server version the candidate run was deployed as (candidate alias), when it was. */
  candidateVersion?: string;
  dataVersion: string;
  production: ProductionDataSummary;
  comparison: PromotionComparison;
  /** The candidate now serves production (promoted). */
  promoted?: boolean;
}

/** A picture the webview shows: a webview URI of the file (the browser decodes it) and what it is. */
export interface ImageTile {
  src: string;
  /** One line under the picture (prediction and confidence, or the class folder). */
  caption: string;
  /** The hover text (file, request id, time). */
  title: string;
  /** Wrong on feedback. */
  wrong?: boolean;
}

/** Image deployments: the window's pictures beside training ones, and the worst requests. */
export interface MonitoringImagesView {
  samples: ImageTile[];
  reference: ImageTile[];
  worst: ImageTile[];
}

export type MonitoringPanelState =
  | { status: 'loading'; deployment: string }
  | { status: 'error'; deployment: string; message: string }
  | {
      status: 'loaded';
      deployment: DeploymentView;
      report?: MonitoringReport;
      /** Why there is no (fresh) report: no logging, no requests yet, the computation failed. */
      reportError?: string;
      /** The server does not log requests: the panel offers to restart it with logging. */
      notLogging?: boolean;
      alerts: MonitoringAlert[];
      gate?: GateView;
      /** Image deployments. */
      images?: MonitoringImagesView;
      /** A retrain or a promotion in progress (buttons disabled). */
      busy?: string;
      refreshedAt?: string;
    };

export type MonitoringHostMessage = { type: 'state'; state: MonitoringPanelState };

export type MonitoringAction =
  'refresh' | 'retrain' | 'promote' | 'rollback' | 'sendToErrorAnalysis' | 'openLogs' | 'restartWithLogging';

export type MonitoringWebviewMessage = ReadyMessage | { type: 'action'; action: MonitoringAction };

const ACTIONS: readonly string[] = [
  'refresh',
  'retrain',
  'promote',
  'rollback',
  'sendToErrorAnalysis',
  'openLogs',
  'restartWithLogging',
];

export function isMonitoringWebviewMessage(value: unknown): value is MonitoringWebviewMessage {
  return (
    isReadyMessage(value) ||
    (hasType(value, 'action') && typeof value.action === 'string' && ACTIONS.includes(value.action))
  );
}

export function isMonitoringReport(v: unknown): v is MonitoringReport {
  return (
    isRecord(v) &&
    Array.isArray(v.features) &&
    isRecord(v.dataset) &&
    isRecord(v.window) &&
    isRecord(v.operational) &&
    Array.isArray(v.issues)
  );
}

function isAlert(v: unknown): v is MonitoringAlert {
  return isRecord(v) && typeof v.kind === 'string' && typeof v.message === 'string';
}

function isGate(v: unknown): v is GateView {
  return (
    isRecord(v) &&
    typeof v.candidateRunId === 'string' &&
    isRecord(v.comparison) &&
    Array.isArray(v.comparison.groups) &&
    isRecord(v.production)
  );
}

function isTile(v: unknown): v is ImageTile {
  return isRecord(v) && typeof v.src === 'string' && typeof v.caption === 'string' && typeof v.title === 'string';
}

function isImagesView(v: unknown): v is MonitoringImagesView {
  return isRecord(v) && isArrayOf(v.samples, isTile) && isArrayOf(v.reference, isTile) && isArrayOf(v.worst, isTile);
}

function isDeployment(v: unknown): v is DeploymentView {
  return (
    isRecord(v) &&
    typeof v.name === 'string' &&
    typeof v.url === 'string' &&
    typeof v.running === 'boolean' &&
    isRecord(v.runs)
  );
}

export function isMonitoringHostMessage(value: unknown): value is MonitoringHostMessage {
  if (!hasType(value, 'state') || !isRecord(value.state)) return false;
  const st = value.state;
  if (st.status === 'loading') return typeof st.deployment === 'string';
  if (st.status === 'error') return typeof st.deployment === 'string' && typeof st.message === 'string';
  return (
    st.status === 'loaded' &&
    isDeployment(st.deployment) &&
    (st.report === undefined || isMonitoringReport(st.report)) &&
    isArrayOf(st.alerts, isAlert) &&
    (st.gate === undefined || isGate(st.gate)) &&
    (st.images === undefined || isImagesView(st.images))
  );
}
