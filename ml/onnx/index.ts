export { exportOnnx, referenceOutputs, ONNX_OPSET } from './export';
export type { ExportOptions, ExportedPolicy } from './export';
export { parsePolicySignature, actionSpaceOf, outputNames, PolicySignatureSchema } from './signature';
export type { PolicySignature, HeadSignature } from './signature';
export { decodeAction, scoreAction } from './decode';
export type { DecodedAction, DecodeMode, OutputMap } from './decode';
