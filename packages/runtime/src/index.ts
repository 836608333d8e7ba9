/** Runtime pieces the camera agent and the web service share (the wire contract is @camstream/protocol). */
export * from './clock.js';
export * from './backoff.js';
