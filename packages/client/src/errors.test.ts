import { describe, expect, it } from 'vitest';
import { JobstackApiError } from './errors.ts';

describe('JobstackApiError.from', () => {
  it('keeps a problem+json answer whole, with the slug of an API problem type', () => {
    const problem = {
      type: 'https://jobstack.dev/problems/job-not-found',
      title: 'Job not found',
      status: 404,
      detail: 'There is no job with id 1.',
      instance: '/v1/jobs/1',
      requestId: 'req-1',
      jobId: '1',
    };
    const error = JobstackApiError.from(new Response(null, { status: 404 }), problem);
    expect(error).toMatchObject({
      name: 'JobstackApiError',
      status: 404,
      slug: 'job-not-found',
      requestId: 'req-1',
      problem,
      message: '404 Job not found: There is no job with id 1.',
    });
  });

  it('leaves the slug out for a problem type of another origin', () => {
    const error = JobstackApiError.from(new Response(null, { status: 400 }), {
      type: 'https://example.com/problems/other',
      title: 'Other',
      status: 400,
      detail: 'd',
    });
    expect(error.slug).toBeUndefined();
    expect(error.type).toBe('https://example.com/problems/other');
  });

  it("makes an about:blank problem of an answer that is not one (a proxy's error page)", () => {
    const response = new Response(null, {
      status: 502,
      statusText: 'Bad Gateway',
      headers: { 'X-Request-Id': 'edge-7' },
    });
    const error = JobstackApiError.from(response, '<html><body>upstream down</body></html>');
    expect(error).toMatchObject({
      status: 502,
      type: 'about:blank',
      slug: undefined,
      title: 'Bad Gateway',
      detail: '<html><body>upstream down</body></html>',
      requestId: 'edge-7',
    });
  });
});
