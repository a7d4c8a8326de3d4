export {
  type Batcher,
  type BatcherOptions,
  BatchQueueFullError,
  createBatcher,
  positiveInteger,
  type SubmitOptions,
} from './create-batcher.ts';
