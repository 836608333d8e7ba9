/**
 * MQTT payload schemas. Each schema is the single definition: the runtime validators in
 * validate.ts are compiled from it and the TypeScript types are derived from it.
 * Objects accept unknown extra keys, so newer peers can add fields without breaking older ones.
 */
import Type, { type Static } from 'typebox';
import { UDP_TARGET_PATTERN } from './udp.js';

// Written out as tuples: a mapped array would widen the static type to never.
export const CameraStateSchema = Type.Union([
  Type.Literal('offline'),
  Type.Literal('idle'),
  Type.Literal('starting'),
  Type.Literal('streaming'),
  Type.Literal('error'),
]);

export const ControlActionSchema = Type.Union([Type.Literal('start'), Type.Literal('stop')]);

/** `cameras/<id>/control`: QoS 1, never retained. */
export const ControlCommandSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  action: ControlActionSchema,
  target: Type.Optional(Type.String({ pattern: UDP_TARGET_PATTERN, maxLength: 300 })),
});
export type ControlCommand = Static<typeof ControlCommandSchema>;

/** `cameras/<id>/status`: retained; `offline` is the agent's Last Will. */
export const CameraStatusSchema = Type.Object({
  state: CameraStateSchema,
  at: Type.String({ minLength: 1 }),
  /** Human-readable detail, e.g. why the state is `error`. */
  message: Type.Optional(Type.String()),
  /** Where the stream goes while `starting` or `streaming`. */
  target: Type.Optional(Type.String()),
  /** Which capture source the agent runs: `test`, `rpicam` or `v4l2`. */
  source: Type.Optional(Type.String()),
});
export type CameraStatus = Static<typeof CameraStatusSchema>;

/** `cameras/<id>/events`: one reply per command. */
export const CommandEventSchema = Type.Object({
  /** The command's id; null when the payload had no readable id (malformed JSON, say). */
  commandId: Type.Union([Type.String(), Type.Null()]),
  ok: Type.Boolean(),
  message: Type.Optional(Type.String()),
  /** A stable code for a refusal, e.g. `AGENT_ERR_TARGET_NOT_ALLOWED`. */
  code: Type.Optional(Type.String()),
  action: Type.Optional(Type.String()),
  /** The camera's state after the command was handled. */
  state: Type.Optional(CameraStateSchema),
  /** True when this id was seen before and the command was not applied again. */
  duplicate: Type.Optional(Type.Boolean()),
});
export type CommandEvent = Static<typeof CommandEventSchema>;
