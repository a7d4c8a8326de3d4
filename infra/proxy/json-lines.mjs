// Runs HAProxy (the arguments) and writes every line it prints as one JSON object, like the apps'
// logs. Its request log is JSON already (log-format in haproxy.cfg); its own messages on stderr
// (`[NOTICE]`, `[WARNING]`, `[ALERT]`: starting, stopping, servers going up and down) are plain
// text, and silencing them is not an option: `-q` also closes the stdout the request log goes
// to, and an `[ALERT]` is often the only word on why the proxy stopped. Hand-written because it is
// a few lines of Node, already in the image, where a log shipper would be a container of its own.
//
// Node is PID 1 here: it passes the container's signals on and exits as HAProxy does. SIGTERM
// (`docker stop`) becomes SIGUSR1, HAProxy's soft stop: it stops listening and finishes the
// requests in flight. Node itself cannot take SIGUSR1 without opening its inspector, which
// --disable-sigusr1 (the image's CMD) turns off.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: node json-lines.mjs COMMAND [ARGUMENT...]\n');
  process.exit(2);
}

const LEVELS = { NOTICE: 'info', WARNING: 'warn', ALERT: 'error', EMERG: 'fatal' };

/** A line as a JSON object: a JSON object line as it is (given a time), any other one wrapped. */
function toJson(line, fallbackLevel) {
  if (line.startsWith('{')) {
    try {
      const object = JSON.parse(line);
      if (object && typeof object === 'object' && !Array.isArray(object)) {
        return JSON.stringify({ time: new Date().toISOString(), ...object });
      }
    } catch {
      // not JSON after all: wrapped below like any other text
    }
  }
  // `[WARNING]  (9) : Proxy api stopped ...`: the level, HAProxy's process id, the message
  const match = /^\[(\w+)\]\s*(?:\((\d+)\)\s*)?:\s?(.*)$/.exec(line);
  return JSON.stringify({
    level: (match && LEVELS[match[1]]) ?? fallbackLevel,
    time: new Date().toISOString(),
    service: 'proxy',
    ...(match?.[2] ? { pid: Number(match[2]) } : {}),
    msg: match ? match[3] : line,
  });
}

const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const readers = [
  [child.stdout, 'info'],
  [child.stderr, 'warn'],
].map(([input, level]) => {
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  reader.on('line', (line) => {
    if (line.trim() !== '') process.stdout.write(`${toJson(line, level)}\n`);
  });
  return new Promise((resolve) => reader.on('close', resolve));
});

/** The signal HAProxy gets for each one the container gets (SIGUSR2: reload its configuration). */
const PASSED_ON = { SIGTERM: 'SIGUSR1', SIGINT: 'SIGINT', SIGQUIT: 'SIGQUIT', SIGUSR2: 'SIGUSR2' };
for (const [received, sent] of Object.entries(PASSED_ON)) {
  process.on(received, () => child.kill(sent));
}
child.on('error', (error) => {
  process.stdout.write(`${toJson(`[ALERT] : ${command}: ${error.message}`, 'error')}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  // every line read first, so that the last ones (why it stopped) are not lost
  const exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
  Promise.all(readers).then(() => process.exit(exitCode));
});
