// Typed arrays that grow while a file streams by: one value per row without knowing the row count.
type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;
type TypedCtor<T extends TypedArray> = { new (n: number): T };

export interface Growable<T extends TypedArray> {
  readonly length: number;
  push(v: number): void;
  /** Appends `count` copies of v (backfilling a column that starts being tracked late). */
  fill(v: number, count: number): void;
  /** Appends all of `values`. */
  append(values: ArrayLike<number>): void;
  /** Makes room for `capacity` values in all (a size estimate: no doubling and copying on the way there). */
  reserve(capacity: number): void;
  /** The values pushed so far (a view; copy it before pushing more). */
  view(): T;
}

/** One class per element type: each gets its own copy of `push`, so V8 sees a single typed-array kind
 *  at every store (a shared `push` over five kinds goes megamorphic and was the profiler's top entry). */
function growableOf<T extends TypedArray>(ctor: TypedCtor<T>): new (capacity?: number) => Growable<T> {
  return class {
    private buf: T;
    length = 0;

    constructor(capacity = 1024) {
      this.buf = new ctor(Math.max(1, capacity));
    }

    push(v: number): void {
      if (this.length === this.buf.length) this.grow(this.length + 1);
      this.buf[this.length++] = v;
    }

    fill(v: number, count: number): void {
      if (this.length + count > this.buf.length) this.grow(this.length + count);
      this.buf.fill(v, this.length, this.length + count);
      this.length += count;
    }

    append(values: ArrayLike<number>): void {
      if (this.length + values.length > this.buf.length) this.grow(this.length + values.length);
      this.buf.set(values as never, this.length);
      this.length += values.length;
    }

    reserve(capacity: number): void {
      if (capacity > this.buf.length) this.grow(capacity, true);
    }

    private grow(min: number, exact = false): void {
      const next = new ctor(exact ? min : Math.max(min, this.buf.length * 2));
      next.set(this.buf as never);
      this.buf = next;
    }

    view(): T {
      return this.buf.subarray(0, this.length) as T;
    }
  };
}

export const GrowableFloat32 = growableOf(Float32Array);
export const GrowableFloat64 = growableOf(Float64Array);
export const GrowableInt32 = growableOf(Int32Array);
export const GrowableUint32 = growableOf(Uint32Array);
export const GrowableUint8 = growableOf(Uint8Array);
