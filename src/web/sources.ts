import { WgsegError } from '../core/errors';

/** The message shown where the browser has no WebGPU. */
export const NO_WEBGPU_MESSAGE =
  'WebGPU is not available in this browser. Use a recent Chrome or Edge (or Safari / Firefox with WebGPU enabled); in Chromium without a GPU start it with --enable-unsafe-webgpu.';

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** getUserMedia for a camera at about `width` x `height`, with a readable message for each way it fails. */
export async function requestCamera(width = 640, height = 480): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia)
    throw new WgsegError('BAD_INPUT', 'This page cannot use a camera here (getUserMedia needs https or localhost).');
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: width }, height: { ideal: height } },
      audio: false,
    });
  } catch (e) {
    const name = (e as DOMException).name;
    if (name === 'NotAllowedError')
      throw new WgsegError(
        'BAD_INPUT',
        'Camera access was denied: allow the camera for this page (the camera icon in the address bar) and reload.',
      );
    if (name === 'NotFoundError' || name === 'OverconstrainedError')
      throw new WgsegError('BAD_INPUT', 'No camera found: connect one and reload.');
    if (name === 'NotReadableError')
      throw new WgsegError('BAD_INPUT', 'The camera is busy (used by another application?).');
    throw new WgsegError('BAD_INPUT', `Camera failed: ${errText(e)}`);
  }
}

/** Where frames come from: a camera or video (changing), or a still image. */
export interface FrameSource {
  kind: 'camera' | 'video' | 'image';
  /** what the preprocessor reads */
  element: HTMLVideoElement | ImageBitmap;
  /** frames change over time (camera, video) */
  live: boolean;
  /** the current frame's size, or null while no frame is there yet */
  size(): [number, number] | null;
  /** stops the camera tracks / the video and frees the image; safe to call twice */
  close(): void;
}

const VIDEO_URL = /\.(mp4|webm|ogv|ogg|mov|m4v)([?#].*)?$|^data:video\//i;

/**
 * `src` -> a frame source: 'camera' (getUserMedia into `video`), a video URL (by extension: played
 * muted and looped in `video`) or an image URL (decoded to an ImageBitmap). Errors name the URL.
 */
export async function openSource(src: string, video: HTMLVideoElement): Promise<FrameSource> {
  if (src === 'camera') {
    const stream = await requestCamera();
    const stop = () => stream.getTracks().forEach((t) => t.stop());
    try {
      video.srcObject = stream;
      await video.play();
    } catch (e) {
      stop();
      throw new WgsegError('BAD_INPUT', `Camera failed: ${errText(e)}`);
    }
    return {
      kind: 'camera',
      element: video,
      live: true,
      size: () => videoSize(video),
      close: () => (stop(), (video.srcObject = null)),
    };
  }
  if (!src) throw new WgsegError('BAD_INPUT', 'no src: give "camera", an image URL or a video URL');
  if (VIDEO_URL.test(src)) {
    Object.assign(video, { crossOrigin: 'anonymous', loop: true, muted: true, src });
    try {
      await video.play();
    } catch (e) {
      const err = video.error
        ? `media error ${video.error.code}${video.error.message ? `: ${video.error.message}` : ''}`
        : errText(e);
      throw new WgsegError('BAD_INPUT', `${src}: cannot play this video (${err})`);
    }
    return {
      kind: 'video',
      element: video,
      live: true,
      size: () => videoSize(video),
      close: () => (video.pause(), video.removeAttribute('src'), video.load()),
    };
  }
  let res: Response;
  try {
    res = await fetch(src);
  } catch (e) {
    throw new WgsegError('BAD_INPUT', `${src}: cannot fetch (${errText(e)})`);
  }
  if (!res.ok) throw new WgsegError('BAD_INPUT', `${src}: HTTP ${res.status}`);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(await res.blob());
  } catch (e) {
    throw new WgsegError('BAD_INPUT', `${src}: not an image this browser can decode (${errText(e)})`);
  }
  return {
    kind: 'image',
    element: bitmap,
    live: false,
    size: () => [bitmap.width, bitmap.height],
    close: () => bitmap.close(),
  };
}

function videoSize(v: HTMLVideoElement): [number, number] | null {
  return v.readyState >= 2 && v.videoWidth && v.videoHeight ? [v.videoWidth, v.videoHeight] : null;
}
