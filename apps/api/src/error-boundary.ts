import { InvalidCursorError, isDatabaseUnavailableError, JobJsonError } from '@repo/db';
import { InvalidPayloadError, UnknownJobTypeError } from '@repo/jobs';
import type { ErrorRequestHandler, Request, Response } from 'express';
import {
  DependencyUnavailableError,
  type ProblemDetails,
  ProblemError,
  problemTypes,
  problemTypeUri,
  RequestAbandonedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './problems.ts';

/** What body-parser (through raw-body and http-errors) attaches to the errors it raises. */
interface BodyParserError extends Error {
  type: string;
  status: number;
  limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    error instanceof Error &&
    typeof (error as Partial<BodyParserError>).type === 'string' &&
    typeof (error as Partial<BodyParserError>).status === 'number'
  );
}

/**
 * Recognises every error the API can meet and says which problem it is. Anything unrecognised is
 * an internal error: a bug to fix, answered with a 500 that reveals nothing about it.
 */
export function toProblemError(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;

  if (error instanceof UnknownJobTypeError) {
    return new ProblemError(
      'unknown-job-type',
      `"${error.type}" is not a job type clients may enqueue. Known types: ${error.knownTypes.join(', ')}.`,
      { extensions: { knownTypes: error.knownTypes } },
    );
  }
  if (error instanceof InvalidPayloadError) {
    return new ValidationError(
      `The payload does not match the schema of job type "${error.type}".`,
      error.issues.map((issue) => ({ ...issue, path: ['body', 'payload', ...issue.path] })),
    );
  }

  // JSON that PostgreSQL's jsonb cannot hold (the NUL character)
  if (error instanceof JobJsonError) {
    return new ValidationError(`The ${error.field} cannot be stored.`, [
      { code: 'custom', path: ['body', error.field], message: error.message },
    ]);
  }

  if (error instanceof InvalidCursorError) {
    return new ProblemError(
      'invalid-cursor',
      'The cursor was not issued by this API or has been altered; start again without one.',
      { cause: error },
    );
  }

  // Outages are recognised by where they come from: the repository throws
  // DatabaseUnavailableError, and every Redis call goes through callRedis, which answers a
  // DependencyUnavailableError (a ProblemError, above). A bare socket code could come from any
  // connection, so it is not taken for either.
  if (isDatabaseUnavailableError(error)) {
    return new DependencyUnavailableError('database', 'PostgreSQL is unavailable.', {
      cause: error,
    });
  }

  // Express could not percent-decode a path parameter
  if (error instanceof URIError) {
    return new ProblemError(
      'malformed-request',
      'The request path is not valid percent-encoding.',
      {
        cause: error,
      },
    );
  }

  if (isBodyParserError(error)) {
    switch (error.type) {
      case 'entity.parse.failed':
        return new ProblemError('malformed-json', 'The request body could not be parsed as JSON.', {
          cause: error,
        });
      case 'entity.too.large':
        return new ProblemError(
          'payload-too-large',
          `The request body is larger than the ${error.limit ?? 'configured'} bytes accepted.`,
          { cause: error },
        );
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new UnsupportedMediaTypeError(error.message);
      default:
        // aborted uploads and bodies whose length does not match Content-Length
        if (error.status >= 400 && error.status < 500) {
          return new ValidationError('The request body could not be read.', [
            { code: 'custom', path: ['body'], message: error.message },
          ]);
        }
    }
  }

  return new ProblemError(
    'internal-error',
    'An unexpected error occurred. Quote the requestId when reporting it.',
    { cause: error },
  );
}

export function problemDetailsOf(problem: ProblemError, req: Request): ProblemDetails {
  return {
    ...problem.extensions,
    type: problemTypeUri(problem.slug),
    title: problemTypes[problem.slug].title,
    status: problem.status,
    detail: problem.message,
    instance: req.originalUrl.split('?', 1)[0] ?? '/',
    requestId: String(req.id),
  };
}

/** Writes `problem` as application/problem+json. The one way an error becomes a response. */
export function sendProblem(req: Request, res: Response, problem: ProblemError): void {
  if (problem.status >= 500) {
    // requestLogging logs the request once it completes, with this error attached: one line per failure
    res.err = problem.cause instanceof Error ? problem.cause : problem;
  }
  res
    .status(problem.status)
    .set(problem.headers)
    .set('Cache-Control', 'no-store')
    .type('application/problem+json')
    .json(problemDetailsOf(problem, req));
}

/**
 * The error boundary: the last middleware of the app. Every thrown or rejected error ends here
 * and leaves as problem+json without a stack trace.
 */
export function errorBoundary(): ErrorRequestHandler {
  return (error, req, res, _next) => {
    // the request was answered 503 at its timeout, or its client left: nothing more to say, and
    // the abandonment is already on the request's log line
    if (error instanceof RequestAbandonedError) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    if (res.headersSent) {
      // The answer is already on its way (e.g. a handler that outlived the request timeout):
      // nothing can be said to the client any more, so record it and end the exchange.
      req.log.warn({ err: error }, 'error after the response had started');
      if (!res.writableEnded) res.destroy();
      return;
    }
    sendProblem(req, res, toProblemError(error));
  };
}
