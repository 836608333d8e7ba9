/** Picks the source's command line from the configuration and what the probe found on this machine. */
import type { AgentConfig } from '../config.js';
import type { EncoderCommand } from './command.js';
import { buildRpicamCommand } from './rpicam.js';
import { buildTestSourceCommand } from './test.js';
import { buildV4l2Command, type V4l2Encoder } from './v4l2.js';

export type { EncoderCommand, GracefulStop } from './command.js';

/** Facts about this machine that shape the command line (see probe.ts). */
export interface SourceEnvironment {
  /** For the test source's clock overlay; undefined when no font was found. */
  readonly fontFile?: string;
  /** The v4l2 encoder after resolving `auto`. */
  readonly v4l2Encoder: V4l2Encoder;
}

export function buildEncoderCommand(
  config: AgentConfig,
  environment: SourceEnvironment,
  port: number,
): EncoderCommand {
  const { video } = config;
  switch (config.source) {
    case 'test':
      return buildTestSourceCommand({
        ffmpegPath: config.ffmpegPath,
        video,
        port,
        stamp: config.testSource.stamp,
        ...(environment.fontFile !== undefined && { fontFile: environment.fontFile }),
      });
    case 'rpicam':
      return buildRpicamCommand({ rpicamVidPath: config.rpicamVidPath, video, port });
    case 'v4l2':
      return buildV4l2Command({
        ffmpegPath: config.ffmpegPath,
        device: config.v4l2.device,
        inputFormat: config.v4l2.inputFormat,
        encoder: environment.v4l2Encoder,
        video,
        port,
      });
  }
}
