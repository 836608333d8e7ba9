import Fastify, { type FastifyBaseLogger } from 'fastify';

const noop = () => {};

/** Silent, unless CAMSTREAM_TEST_VERBOSE is set (then pino at debug level, through fastify). */
export const silentLogger: FastifyBaseLogger = process.env.CAMSTREAM_TEST_VERBOSE
  ? Fastify({ logger: { level: 'debug' } }).log
  : {
      level: 'silent',
      fatal: noop,
      error: noop,
      warn: noop,
      info: noop,
      debug: noop,
      trace: noop,
      silent: noop,
      child: () => silentLogger,
    };
