// Limited-memory BFGS with a strong-Wolfe line search (Nocedal & Wright, Numerical Optimization,
// 2nd ed.: Algorithm 7.4 two-loop recursion, Algorithms 3.5/3.6 bracketing + zoom with cubic
// interpolation). Stopping rules are those of scipy's L-BFGS-B: max |gradient_i| ≤ tol, or relative
// decrease of f ≤ ftol, or maxIter. The default ftol (64·machine epsilon, about 1.4e-14) is stricter
// than scipy's own default (2.2e-9), which scikit-learn 1.2 leaves in place.

/** Evaluates f at x and writes ∇f(x) into g. */
export type ObjectiveWithGradient = (x: Float64Array, g: Float64Array) => number;

export interface LbfgsOptions {
  maxIter: number;
  /** Gradient tolerance: stop when max |g_i| ≤ tol. */
  tol: number;
  /** History size (scipy's default 10). */
  memory?: number;
  /** Relative function-decrease tolerance. */
  ftol?: number;
  /** Max function evaluations per line search. */
  maxLineSearch?: number;
  /** Called after every iteration (1-based); may throw to stop (e.g. CancelledError). */
  onIteration?: (iteration: number, f: number, gradMax: number, x: Float64Array) => void;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: 'gradient' | 'ftol' | 'maxIter' | 'lineSearch';
}

const C1 = 1e-4;
const C2 = 0.9;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
// The vector loops live in small functions of their own: V8 optimizes each soon after the first
// calls, where a loop inside minimizeLbfgs itself waits for the whole function's (slow) optimization.
/** y += a·x */
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += a * x[i];
}
/** out = x + a·d */
function pointOnLine(x: Float64Array, a: number, d: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = x[i] + a * d[i];
}
/** out = a − b */
function difference(a: Float64Array, b: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] - b[i];
}
/** out = s·x */
function scaled(s: number, x: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = s * x[i];
}
function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}

/** Minimizer of the cubic interpolating (a, fa, da), (b, fb, db), safeguarded into the inner 80% of [a, b]. */
function cubicStep(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const d1 = da + db - 3 * ((fa - fb) / (a - b));
  const disc = d1 * d1 - da * db;
  let t = NaN;
  if (disc >= 0) {
    const d2 = Math.sign(b - a) * Math.sqrt(disc);
    t = b - (b - a) * ((db + d2 - d1) / (db - da + 2 * d2));
  }
  const margin = 0.1 * (hi - lo);
  if (!Number.isFinite(t) || t < lo + margin || t > hi - margin) t = (lo + hi) / 2;
  return t;
}

export function minimizeLbfgs(fg: ObjectiveWithGradient, x0: Float64Array, opts: LbfgsOptions): LbfgsResult {
  const n = x0.length;
  const m = opts.memory ?? 10;
  const ftol = opts.ftol ?? 64 * Number.EPSILON;
  const maxLs = opts.maxLineSearch ?? 50;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alphaBuf = new Float64Array(m);
  const d = new Float64Array(n);
  let xTrial = new Float64Array(n);
  let gTrial = new Float64Array(n);

  if (maxAbs(g) <= opts.tol) return { x, f, iterations: 0, evaluations, converged: true, reason: 'gradient' };

  for (let iter = 1; iter <= opts.maxIter; iter++) {
    // Two-loop recursion: d = −H·g.
    scaled(-1, g, d);
    const k = S.length;
    for (let j = k - 1; j >= 0; j--) {
      const a = rho[j] * dot(S[j], d);
      alphaBuf[j] = a;
      axpy(-a, Y[j], d);
    }
    if (k > 0) scaled(dot(S[k - 1], Y[k - 1]) / dot(Y[k - 1], Y[k - 1]), d, d);
    for (let j = 0; j < k; j++) {
      const beta = rho[j] * dot(Y[j], d);
      axpy(alphaBuf[j] - beta, S[j], d);
    }
    let dphi0 = dot(g, d);
    if (!(dphi0 < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      scaled(-1, g, d);
      dphi0 = dot(g, d);
    }
    const firstStep = S.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(g, g))) : 1;

    // ---- strong-Wolfe line search ----
    const evalAt = (alpha: number): [number, number] => {
      pointOnLine(x, alpha, d, xTrial);
      const fa = fg(xTrial, gTrial);
      evaluations++;
      return [fa, dot(gTrial, d)];
    };
    let accepted = false;
    let aPrev = 0;
    let fPrev = f;
    let dPrev = dphi0;
    let alpha = firstStep;
    let fNew = NaN;
    let lsEvals = 0;
    let lo = 0,
      fLo = f,
      dLo = dphi0,
      hi = 0,
      fHi = f,
      dHi = dphi0;
    let zoom = false;
    while (lsEvals < maxLs) {
      const [fa, da] = evalAt(alpha);
      lsEvals++;
      if (!Number.isFinite(fa) || fa > f + C1 * alpha * dphi0 || (lsEvals > 1 && fa >= fPrev)) {
        lo = aPrev;
        fLo = fPrev;
        dLo = dPrev;
        hi = alpha;
        fHi = fa;
        dHi = da;
        zoom = true;
        break;
      }
      if (Math.abs(da) <= -C2 * dphi0) {
        accepted = true;
        fNew = fa;
        break;
      }
      if (da >= 0) {
        lo = alpha;
        fLo = fa;
        dLo = da;
        hi = aPrev;
        fHi = fPrev;
        dHi = dPrev;
        zoom = true;
        break;
      }
      aPrev = alpha;
      fPrev = fa;
      dPrev = da;
      alpha *= 2;
    }
    if (zoom) {
      while (lsEvals < maxLs) {
        const useCubic = Number.isFinite(fHi) && Number.isFinite(dHi);
        alpha = useCubic ? cubicStep(lo, fLo, dLo, hi, fHi, dHi) : (lo + hi) / 2;
        const [fa, da] = evalAt(alpha);
        lsEvals++;
        if (!Number.isFinite(fa) || fa > f + C1 * alpha * dphi0 || fa >= fLo) {
          hi = alpha;
          fHi = fa;
          dHi = da;
        } else {
          if (Math.abs(da) <= -C2 * dphi0) {
            accepted = true;
            fNew = fa;
            break;
          }
          if (da * (hi - lo) >= 0) {
            hi = lo;
            fHi = fLo;
            dHi = dLo;
          }
          lo = alpha;
          fLo = fa;
          dLo = da;
        }
        if (Math.abs(hi - lo) < 1e-16 * Math.max(1, Math.abs(lo))) break;
      }
      if (!accepted && lo > 0 && fLo < f) {
        // Wolfe curvature not met within the budget but the sufficient-decrease point `lo` is still progress.
        const [fa] = evalAt(lo);
        accepted = true;
        fNew = fa;
        alpha = lo;
      }
    }
    if (!accepted) return { x, f, iterations: iter - 1, evaluations, converged: false, reason: 'lineSearch' };

    // Update the history with s = xNew − x, y = gNew − g.
    const s = S.length === m ? S.shift()! : new Float64Array(n);
    const y = Y.length === m ? Y.shift()! : new Float64Array(n);
    if (rho.length === m) rho.shift();
    difference(xTrial, x, s);
    difference(gTrial, g, y);
    const sy = dot(s, y);
    if (sy > 1e-10 * dot(y, y)) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    [x, xTrial] = [xTrial, x];
    [g, gTrial] = [gTrial, g];
    const fOld = f;
    f = fNew;
    const gmax = maxAbs(g);
    opts.onIteration?.(iter, f, gmax, x);
    if (gmax <= opts.tol) return { x, f, iterations: iter, evaluations, converged: true, reason: 'gradient' };
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol)
      return { x, f, iterations: iter, evaluations, converged: true, reason: 'ftol' };
  }
  return { x, f, iterations: opts.maxIter, evaluations, converged: false, reason: 'maxIter' };
}
