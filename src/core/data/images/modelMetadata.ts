// The preprocessing an image model needs, stored in its ONNX metadata_props so the model carries it
// wherever it goes (ML Loop's server, a Triton-layout repository, `ml-loop export triton|kserve`).
// One key, IMAGE_METADATA_KEY, whose value is JSON:
//   {"input": "image", "layout": "NCHW", "dtype": "float32", "height": 28, "width": 28,
//    "channels": 1, "colour": "grey", "resize": "stretch-bilinear", "scale": "unit", "exif": true}
// meaning: decode, turn upright by the EXIF orientation, resize to height×width stretched (bilinear),
// convert to grey (1 channel) or sRGB without alpha (3), planar [C, H, W], pixel / 255 in float32
// (./preprocess.ts and ./pixels.ts scaleToUnit do exactly that). Beside it the model's `task` and, for
// classification, `classes` (JSON array, in the order of the model's scores) use the keys every ML
// Loop model has (src/core/train/pipeline.ts modelMetadata). Written for script models after ML Loop
// evaluated them (src/core/scripts) and by built-in image trainers; read by the server (src/core/serve).
import type { ImageSettings } from './preprocess';

export const IMAGE_METADATA_KEY = 'image_preprocessing';

export interface ImagePreprocessing extends ImageSettings {
  /** The model input taking the image tensor. */
  input: string;
  layout: 'NCHW';
  dtype: 'float32';
  colour: 'grey' | 'rgb';
  resize: 'stretch-bilinear';
  /** 'unit': pixel / 255, in [0, 1]. */
  scale: 'unit';
  /** Turned upright by the EXIF orientation before resizing. */
  exif: true;
}

/** The metadata_props entry describing how images become the model's `input` tensor. */
export function imageMetadata(settings: ImageSettings, input = 'image'): Record<string, string> {
  const p: ImagePreprocessing = {
    input,
    layout: 'NCHW',
    dtype: 'float32',
    height: settings.height,
    width: settings.width,
    channels: settings.channels,
    colour: settings.channels === 1 ? 'grey' : 'rgb',
    resize: 'stretch-bilinear',
    scale: 'unit',
    exif: true,
  };
  return { [IMAGE_METADATA_KEY]: JSON.stringify(p) };
}

/**
 * The image preprocessing of a model's metadata_props; undefined without the key. Throws an Error
 * naming the field when the entry is there but not one ML Loop can apply.
 */
export function readImageMetadata(metadata: Record<string, string>): ImagePreprocessing | undefined {
  const text = metadata[IMAGE_METADATA_KEY];
  if (text === undefined) return undefined;
  let p: Partial<ImagePreprocessing>;
  try {
    p = JSON.parse(text) as Partial<ImagePreprocessing>;
  } catch {
    throw new Error(`metadata "${IMAGE_METADATA_KEY}" is not JSON: ${text.slice(0, 80)}`);
  }
  const bad = (field: string, want: string) =>
    new Error(
      `metadata "${IMAGE_METADATA_KEY}": "${field}" must be ${want}, got ${JSON.stringify(p[field as keyof typeof p])}`,
    );
  if (!p || typeof p !== 'object') throw new Error(`metadata "${IMAGE_METADATA_KEY}" must be a JSON object`);
  if (typeof p.input !== 'string' || !p.input) throw bad('input', 'the name of the image input');
  for (const k of ['height', 'width'] as const)
    if (!Number.isSafeInteger(p[k]) || (p[k] as number) < 1) throw bad(k, 'a positive integer');
  if (p.channels !== 1 && p.channels !== 3) throw bad('channels', '1 or 3');
  if ((p.layout ?? 'NCHW') !== 'NCHW') throw bad('layout', '"NCHW"');
  if ((p.dtype ?? 'float32') !== 'float32') throw bad('dtype', '"float32"');
  if ((p.scale ?? 'unit') !== 'unit') throw bad('scale', '"unit" (pixel / 255)');
  if ((p.resize ?? 'stretch-bilinear') !== 'stretch-bilinear') throw bad('resize', '"stretch-bilinear"');
  return {
    input: p.input,
    layout: 'NCHW',
    dtype: 'float32',
    height: p.height!,
    width: p.width!,
    channels: p.channels,
    colour: p.channels === 1 ? 'grey' : 'rgb',
    resize: 'stretch-bilinear',
    scale: 'unit',
    exif: true,
  };
}
