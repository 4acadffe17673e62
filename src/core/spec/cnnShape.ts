// Whether a `cnn` experiment's blocks fit the project's images: each block (3×3 convolution with
// padding 1, then 2×2 max-pooling) halves the height and width, rounding down. Shared by the
// project checks (Problems, at the line of mlloop.json) and the trainer.

/** Height and width after each block, for an image of height × width. */
export function cnnBlockSizes(height: number, width: number, blocks: number): { height: number; width: number }[] {
  const out: { height: number; width: number }[] = [];
  for (let b = 0; b < blocks; b++) {
    height = Math.floor(height / 2);
    width = Math.floor(width / 2);
    out.push({ height, width });
  }
  return out;
}

/** Why `blocks` blocks do not fit a height × width image (pooled below 1×1), or undefined when they do. */
export function cnnShapeProblem(height: number, width: number, blocks: number): string | undefined {
  const sizes = cnnBlockSizes(height, width, blocks);
  const first = sizes.findIndex((s) => s.height < 1 || s.width < 1);
  if (first < 0) return undefined;
  const fits = first;
  return (
    `${blocks} convolution block(s) pool a ${height}×${width} image below 1×1 ` +
    `(${sizes[first].height}×${sizes[first].width} after block ${first + 1}): ` +
    (fits > 0
      ? `use at most ${fits} block(s) in "channels", or larger images (data.imageSize)`
      : 'use larger images (data.imageSize)')
  );
}
