/**
 * Requests too malformed to reach a route still get the service's JSON error body with a code
 * (`WEB_ERR_BAD_REQUEST`): Node's HTTP parser refusing a request (Fastify's own answer has no `code`),
 * and a URL whose %-escapes do not decode (Fastify answers with its FST_ERR_BAD_URL).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createError, toErrorBody } from './errors.js';
import type { ErrorBody } from '@camstream/protocol';

/** Node's own statuses for these parser errors (lib/_http_server.js, socketOnError); 400 otherwise. */
const CLIENT_ERRORS: Record<string, { status: number; detail: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, detail: 'the request headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, detail: 'the chunk extensions are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, detail: 'the request did not arrive in time' },
};

/** The answer to a request Node's HTTP parser refused with `err`. */
export function clientErrorBody(err: Error & { code?: string; reason?: string }): ErrorBody {
  const known = err.code === undefined ? undefined : CLIENT_ERRORS[err.code];
  const status = known?.status ?? 400;
  const detail =
    known?.detail ?? `malformed HTTP request (${err.code ?? 'parse error'}: ${err.reason ?? err.message})`;
  return {
    ...toErrorBody(createError('WEB_ERR_BAD_REQUEST', detail)),
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Bad Request',
  };
}

export function clientErrorHandler(
  this: FastifyInstance,
  err: Error & { code?: string; reason?: string },
  socket: Socket,
): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // As Node does: answer only if no response is under way on this connection (a parse error may come
  // after a request was dispatched, e.g. a bad chunk in its body).
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = clientErrorBody(err);
    const text = JSON.stringify(body);
    this.log.debug({ err, statusCode: body.statusCode }, 'malformed request');
    socket.write(
      `HTTP/1.1 ${body.statusCode} ${body.error}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(err);
}

/** Fastify's errors before routing: FST_ERR_BAD_URL (a 400), FST_ERR_ASYNC_CONSTRAINT. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 500;
  const body =
    status >= 400 && status < 500
      ? toErrorBody(createError('WEB_ERR_BAD_REQUEST', error.message))
      : toErrorBody(error);
  void reply.code(body.statusCode).send(body);
}
