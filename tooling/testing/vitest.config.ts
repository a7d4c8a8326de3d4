import { testKindsConfig } from './src/vitest-config.ts';

export default testKindsConfig();
