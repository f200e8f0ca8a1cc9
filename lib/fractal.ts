/**
 * The fractal half of semfield: IFS attractors and their hierarchy, fractal
 * tokens, fractal dimension and the fractal (partitioned IFS) codec.
 */
export { presets, unfold, chaosGame, render, packIfs } from './ifs';
export type { AffineMap, Ifs, PackedIfs, UnfoldOptions, ChaosOptions, RenderOptions, Rendering } from './ifs';
export { unfoldToken } from './token';
export type { TokenOptions, UnfoldedToken } from './token';
export { boxDimension, boxDimensionMask, boundary, correlationDimension, fitLine, straightRange } from './dimension';
export type { DimensionFit, BoxDimensionOptions, MaskDimensionOptions, CorrelationOptions } from './dimension';
export { encode, decode, codeInfo, psnr } from './codec';
export type { EncodeOptions, EncodedImage, DecodeOptions, DecodedImage, CodeInfo, CodecImage, PsnrImage } from './codec';
