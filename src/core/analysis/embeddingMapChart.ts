// The chart of the embedding map (src/core/analysis/embeddingMap.ts computes it): a scatter of the dev
// images coloured by class or by correct/wrong, and the images inside a region the user draws.
// Pure (no Node): the Error Analysis webview builds its chart with it.
import type { ChartConfiguration } from 'chart.js';
import { axis, baseOptions, seriesColor, withAlpha, type ChartPalette } from '../charts/style';

export interface EmbeddingMap {
  runId: string;
  /** Dev example ids, in dev row order. */
  ids: string[];
  x: number[];
  y: number[];
  /** Class indices. */
  truth: number[];
  predicted: number[];
  /** 1 = the model got it wrong. */
  wrong: number[];
  classes: string[];
}

/** The indices of the points inside the box (data coordinates, either corner order). */
export function pointsInBox(
  map: Pick<EmbeddingMap, 'x' | 'y'>,
  box: { x0: number; y0: number; x1: number; y1: number },
): number[] {
  const [xl, xh] = box.x0 <= box.x1 ? [box.x0, box.x1] : [box.x1, box.x0];
  const [yl, yh] = box.y0 <= box.y1 ? [box.y0, box.y1] : [box.y1, box.y0];
  const out: number[] = [];
  for (let i = 0; i < map.x.length; i++)
    if (map.x[i] >= xl && map.x[i] <= xh && map.y[i] >= yl && map.y[i] <= yh) out.push(i);
  return out;
}

export type MapColouring = 'class' | 'correct';

/**
 * The scatter chart of the map: one dataset per class (colour by class), or correct / wrong (wrong
 * drawn larger, in the warning colour); with a selection, the other points faded. Each point carries its dev row as `row`.
 */
export function embeddingMapChart(
  map: EmbeddingMap,
  colouring: MapColouring,
  p: ChartPalette,
  selected: ReadonlySet<number> = new Set(),
): ChartConfiguration {
  const point = (i: number) => ({ x: map.x[i], y: map.y[i], row: i });
  const rows = map.ids.map((_, i) => i);
  // With a selection, the points outside it fade: the box's images stand out.
  const fill = (i: number, colour: string) => (selected.size && !selected.has(i) ? withAlpha(colour, 0.2) : colour);
  const dataset = (label: string, members: number[], colour: string, radius: (i: number) => number) => ({
    label,
    data: members.map(point),
    // The legend shows the dataset's own colour; each point its own (faded outside a selection).
    backgroundColor: colour,
    borderColor: colour,
    pointBackgroundColor: members.map((i) => fill(i, colour)),
    pointBorderColor: members.map((i) => fill(i, colour)),
    pointRadius: members.map(radius),
  });
  const datasets =
    colouring === 'class'
      ? map.classes.map((name, c) =>
          dataset(
            name,
            rows.filter((i) => map.truth[i] === c),
            seriesColor(p, c),
            (i) => (map.wrong[i] ? 4 : 2.5),
          ),
        )
      : [
          dataset(
            'correct',
            rows.filter((i) => !map.wrong[i]),
            p.muted,
            () => 2.5,
          ),
          dataset(
            'wrong',
            rows.filter((i) => map.wrong[i]),
            p.warning,
            () => 4,
          ),
        ];
  return {
    type: 'scatter',
    data: { datasets },
    // Map coordinates mean nothing by themselves: no tick labels.
    options: baseOptions(p, {
      x: axis(p, '', { ticks: { display: false } }),
      y: axis(p, '', { ticks: { display: false } }),
    }),
  } as ChartConfiguration;
}
