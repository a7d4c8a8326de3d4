export { type Batcher, type BatcherOptions, createBatcher } from './create-batcher.ts';
