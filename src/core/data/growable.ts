// Typed arrays that grow while a file streams by: one value per row without knowing the row count.
type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;
type TypedCtor<T extends TypedArray> = { new (n: number): T };

export class Growable<T extends TypedArray> {
  private buf: T;
  length = 0;

  constructor(
    private readonly ctor: TypedCtor<T>,
    capacity = 1024,
  ) {
    this.buf = new ctor(capacity);
  }

  push(v: number): void {
    if (this.length === this.buf.length) this.grow(this.length + 1);
    this.buf[this.length++] = v;
  }

  /** Appends `count` copies of v (backfilling a column that starts being tracked late). */
  fill(v: number, count: number): void {
    if (this.length + count > this.buf.length) this.grow(this.length + count);
    this.buf.fill(v, this.length, this.length + count);
    this.length += count;
  }

  private grow(min: number): void {
    const next = new this.ctor(Math.max(min, this.buf.length * 2));
    next.set(this.buf as never);
    this.buf = next;
  }

  /** The values pushed so far (a view; copy it before pushing more). */
  view(): T {
    return this.buf.subarray(0, this.length) as T;
  }
}
