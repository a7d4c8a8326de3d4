export { readPackageVersion } from './package-version.ts';
export {
  type RunningService,
  type RunServiceOptions,
  runService,
  type ServiceContext,
} from './run-service.ts';
