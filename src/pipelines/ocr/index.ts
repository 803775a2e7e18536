export { createOcr, Ocr, type OcrOptions, type OcrLine, type OcrTimings } from './ocr';
export type { OcrSource, RgbaImage } from './source';
export type { OcrAsset } from './load';
export type { Point, Quad } from './geometry';
