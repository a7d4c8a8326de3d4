export {
  type Batcher,
  type BatcherOptions,
  BatchQueueFullError,
  createBatcher,
  type SubmitOptions,
} from './create-batcher.ts';
