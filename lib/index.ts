/**
 * semfield: concepts are charges, meaning is the field they create.
 *
 * Mesh view: deposit embeddings' positions as charge, solve the screened
 * Poisson equation for the semantic potential, read its field, and condense
 * it into basins (the stable nodes of meaning).
 */
export { SemfieldError } from './errors';
export type { ErrorCode } from './errors';
export type { Boundary, GridSpec, Grid } from './grid';
export { normalizeGrid, cellCentre } from './grid';
export type { RunOptions } from './native';
export * as device from './device';
export type { DeviceInfo } from './device';
export { deposit, interpolate, potential, grad, div, curl, laplacian, condense } from './mesh';
export type {
  DepositOptions, InterpolateOptions, PotentialOptions, PotentialResult, SolveStats, Anchors,
  CondenseOptions, CondenseResult, Basin, DiffOp,
} from './mesh';
export { wave } from './wave';
export { modes } from './modes';
export { maxwell } from './maxwell';
export type { MaxwellOptions, MaxwellResult, Component, YeeBoundary } from './maxwell';
export { resonance } from './harmonic';
export type { MeshResonanceOptions, MeshResonanceSpectrum } from './harmonic';
export type { ModesOptions, ModesResult } from './modes';
export type { WaveOptions, WaveResult } from './wave';
export * as points from './points';
export type { Kernel } from './points';
export * as fractal from './fractal';
export type { Ifs, AffineMap, DimensionFit, EncodedImage, DecodedImage } from './fractal';
export { project } from './project';
export type { ProjectOptions, Projection, ProjectionTransform } from './project';
export { loadVocabulary } from './vocab';
export type { Vocabulary } from './vocab';
export { encodePng, fieldToRgb, labelsToRgb } from './png';
export { chartPng, chartSvg, fieldChart, interiorPeaks, lineChart, linePlot, projectionAxes } from './chart';
export type { ChartSpec, Concept, FieldChartOptions, PlotOptions, Series } from './chart';
