import type { Field } from '../signature/field.ts';
import type { SignatureView } from './types.ts';

/** `"a, b -> c"`: DSPy's `Signature.signature` text for the given fields. */
export function signatureText(inputFields: readonly Field[], outputFields: readonly Field[]): string {
  return `${inputFields.map((f) => f.name).join(', ')} -> ${outputFields.map((f) => f.name).join(', ')}`;
}

/** A {@link SignatureView} over explicit fields and instructions. */
export function makeSignatureView(
  inputFields: readonly Field[],
  outputFields: readonly Field[],
  instructions: string,
): SignatureView {
  const text = signatureText(inputFields, outputFields);
  return { instructions, inputFields, outputFields, toString: () => text };
}

/** The signature without the named field (DSPy's `signature.delete(name)`), keeping the instructions. */
export function withoutField(signature: SignatureView, name: string): SignatureView {
  return makeSignatureView(
    signature.inputFields.filter((f) => f.name !== name),
    signature.outputFields.filter((f) => f.name !== name),
    signature.instructions,
  );
}

/** All fields, inputs first (DSPy's `signature.fields`). */
export function allFields(signature: SignatureView): readonly Field[] {
  return [...signature.inputFields, ...signature.outputFields];
}
