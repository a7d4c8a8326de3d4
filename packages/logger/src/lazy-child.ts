import type { Bindings, Logger } from 'pino';

/**
 * `parent.child(bindings)`, made only when it is first used: when a line is written through it,
 * or anything else is asked of it. For loggers made per unit of work that usually logs nothing
 * (the worker makes one or two per job, and a job that succeeds writes no line): pino serialises
 * a child's bindings when it is made, which costs more than the proxy that stands in for it.
 * The bindings are read when the child is made, so they must not change meanwhile.
 */
export function lazyChild(parent: Logger, bindings: Bindings): Logger {
  let child: Logger | undefined;
  const made = () => {
    child ??= parent.child(bindings);
    return child;
  };
  // A Proxy rather than an object of our own: a pino Logger has too many members to copy, and a
  // line is rare enough that a bound method per call costs nothing that matters.
  return new Proxy({} as Logger, {
    get(_target, property) {
      const logger = made();
      const value: unknown = Reflect.get(logger, property, logger);
      return typeof value === 'function' ? value.bind(logger) : value;
    },
    set: (_target, property, value) => Reflect.set(made(), property, value),
    has: (_target, property) => Reflect.has(made(), property),
  });
}
