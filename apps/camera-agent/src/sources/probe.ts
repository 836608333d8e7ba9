/**
 * Looks at this machine once, at agent start: a font for the test source's clock, and whether the
 * v4l2 source can use the hardware encoder. The only I/O behind the (pure) source builders.
 */
import { execFile } from 'node:child_process';
import { access, readdir, readFile } from 'node:fs/promises';
import type { AgentConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SourceEnvironment } from './index.js';
import { resolveV4l2Encoder } from './v4l2.js';

/** Debian's fontconfig depends on one of these, so a machine with ffmpeg nearly always has one. */
export const FONT_CANDIDATES: readonly string[] = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/truetype/freefont/FreeMono.ttf',
  '/usr/share/fonts/TTF/DejaVuSansMono.ttf',
];

/** The Pi's V4L2 encoder device; other boards name theirs in /sys/class/video4linux/<dev>/name. */
const M2M_DEVICE = '/dev/video11';
const M2M_ENCODER_NAMES = ['bcm2835-codec-encode'];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function findFont(candidates: readonly string[] = FONT_CANDIDATES): Promise<string | undefined> {
  for (const path of candidates) if (await exists(path)) return path;
  return undefined;
}

export function ffmpegListsEncoder(ffmpegPath: string, encoder: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(ffmpegPath, ['-hide_banner', '-encoders'], { timeout: 10_000 }, (error, stdout) => {
      resolve(!error && new RegExp(`^\\s*V\\S*\\s+${encoder}\\s`, 'm').test(stdout));
    });
  });
}

export async function m2mEncoderPresent(): Promise<boolean> {
  if (await exists(M2M_DEVICE)) return true;
  try {
    for (const entry of await readdir('/sys/class/video4linux')) {
      const name = await readFile(`/sys/class/video4linux/${entry}/name`, 'utf8').catch(() => '');
      if (M2M_ENCODER_NAMES.includes(name.trim())) return true;
    }
  } catch {
    // no V4L2 at all
  }
  return false;
}

export async function probeSourceEnvironment(
  config: AgentConfig,
  logger: Logger,
): Promise<SourceEnvironment> {
  if (config.source === 'test') {
    const fontFile = await findFont();
    if (fontFile === undefined)
      logger.warn('no font found: the test pattern shows no clock (install fonts-dejavu-core)');
    return { v4l2Encoder: 'libx264', ...(fontFile !== undefined && { fontFile }) };
  }
  if (config.source === 'v4l2') {
    const setting = config.v4l2.encoder;
    const v4l2Encoder =
      setting === 'auto'
        ? resolveV4l2Encoder(setting, {
            ffmpegHasM2m: await ffmpegListsEncoder(config.ffmpegPath, 'h264_v4l2m2m'),
            m2mDevicePresent: await m2mEncoderPresent(),
          })
        : setting;
    logger.info(`v4l2 source encodes with ${v4l2Encoder}`, { setting });
    return { v4l2Encoder };
  }
  return { v4l2Encoder: 'libx264' };
}
