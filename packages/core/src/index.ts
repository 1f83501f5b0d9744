export * from './errors.ts';
export * from './lm/spec.ts';
export * from './lm/interfaces.ts';
