import { describe, expect, test } from 'vitest';
import { loadAgentConfig } from '../src/config.js';
import { loopbackUrl } from '../src/sources/command.js';
import { buildEncoderCommand } from '../src/sources/index.js';
import { buildRpicamCommand } from '../src/sources/rpicam.js';
import { buildTestSourceCommand, clockOverlay, stampFilters } from '../src/sources/test.js';
import { buildV4l2Command, resolveV4l2Encoder } from '../src/sources/v4l2.js';

const video = { width: 640, height: 480, fps: 30, bitrate: 2_000_000, keyframeInterval: 30 };
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';

/** The value after `flag` in an argument list. */
function valueOf(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

// prettier-ignore
const X264_AND_MPEGTS = [
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline',
  '-pix_fmt', 'yuv420p', '-b:v', '2000000', '-maxrate', '2000000', '-bufsize', '1000000',
  '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-force_key_frames', 'expr:eq(n,6)',
  '-an', '-f', 'mpegts', '-flush_packets', '1', '-muxdelay', '0', '-muxpreload', '0',
  'udp://127.0.0.1:40000?pkt_size=1316&connect=1',
];

describe('loopbackUrl', () => {
  test('1316-byte datagrams to the agent, on a connected socket', () => {
    expect(loopbackUrl(40000)).toBe('udp://127.0.0.1:40000?pkt_size=1316&connect=1');
  });

  test.each([0, -1, 65536, 1.5])('rejects port %s', (port) => {
    expect(() => loopbackUrl(port)).toThrow(RangeError);
  });
});

describe('test source', () => {
  test('lavfi testsrc2 in real time with a clock, libx264 for live, MPEG-TS to the loopback port', () => {
    const { command, args, gracefulStop } = buildTestSourceCommand({
      ffmpegPath: 'ffmpeg',
      video,
      port: 40000,
      fontFile: FONT,
    });
    expect(command).toBe('ffmpeg');
    expect(gracefulStop).toBe('q-stdin');
    // prettier-ignore
    expect(args).toEqual([
      '-hide_banner', '-nostats', '-loglevel', 'warning',
      '-re', '-f', 'lavfi', '-i', `testsrc2=size=640x480:rate=30,${clockOverlay(FONT)}`,
      ...X264_AND_MPEGTS,
    ]);
  });

  test('the clock overlay draws local time and stream time with the given font', () => {
    expect(clockOverlay(FONT)).toBe(
      `drawtext=fontfile=${FONT}:text='%{localtime} %{pts\\:hms}':fontsize=h/20:fontcolor=white` +
        ':box=1:boxcolor=black@0.6:boxborderw=6:x=8:y=h-th-14',
    );
  });

  test('font paths that would need filtergraph escaping are refused', () => {
    expect(() => clockOverlay("/fonts/it's:here.ttf")).toThrow(TypeError);
  });

  test('without a font: the bare pattern (testsrc2 draws its own timestamp)', () => {
    const { args } = buildTestSourceCommand({ ffmpegPath: '/opt/ffmpeg', video, port: 40000 });
    expect(valueOf(args, '-i')).toBe('testsrc2=size=640x480:rate=30');
  });

  test('size, rate, bitrate and keyframe interval follow the settings', () => {
    const { args } = buildTestSourceCommand({
      ffmpegPath: 'ffmpeg',
      video: { width: 1280, height: 720, fps: 25, bitrate: 4_000_000, keyframeInterval: 50 },
      port: 5000,
    });
    expect(valueOf(args, '-i')).toBe('testsrc2=size=1280x720:rate=25');
    expect(valueOf(args, '-b:v')).toBe('4000000');
    expect(valueOf(args, '-maxrate')).toBe('4000000');
    expect(valueOf(args, '-bufsize')).toBe('2000000');
    expect(valueOf(args, '-g')).toBe('50');
    expect(valueOf(args, '-keyint_min')).toBe('50');
    expect(valueOf(args, '-sc_threshold')).toBe('0');
    expect(args.at(-1)).toBe('udp://127.0.0.1:5000?pkt_size=1316&connect=1');
  });
});

describe('test source stamp', () => {
  test('wall clock into the PTS, the bits drawn by geq on a 34 × 2 strip blown up to the band, clean PTS again', () => {
    const bit = 'mod(floor(round(T*1000)/pow(2,32-X)),2)';
    expect(stampFilters(video)).toBe(
      'format=yuv420p,settb=1/1000,setpts=floor(RTCTIME/1000),split[main][band];' +
        `[band]crop=34:2:0:0,geq=lum='if(eq(X,0),235,if(gte(X,33),16,16+219*${bit}))':cb=128:cr=128,` +
        'scale=612:16:flags=neighbor[stamp];' +
        '[main][stamp]overlay=0:0,settb=1/30,setpts=N',
    );
  });

  test('the band scales with the frame width, like readStamp expects', () => {
    const wide = stampFilters({ ...video, width: 1280, height: 720, fps: 25 });
    expect(wide).toContain('scale=1224:32:flags=neighbor');
    expect(wide).toContain('settb=1/25,setpts=N');
    expect(stampFilters({ ...video, width: 320, height: 240 })).toContain('scale=306:8:flags=neighbor');
  });

  test('stamped between the pattern and the clock; not at all when off or when the frame is too small', () => {
    const input = (options: Partial<Parameters<typeof buildTestSourceCommand>[0]>) =>
      valueOf(buildTestSourceCommand({ ffmpegPath: 'ffmpeg', video, port: 1, ...options }).args, '-i');
    expect(input({ stamp: true, fontFile: FONT })).toBe(
      `testsrc2=size=640x480:rate=30,${stampFilters(video)},${clockOverlay(FONT)}`,
    );
    expect(input({ stamp: false })).toBe('testsrc2=size=640x480:rate=30');
    expect(input({ stamp: true, video: { ...video, width: 32, height: 32 } })).toBe(
      'testsrc2=size=32x32:rate=30',
    );
    expect(input({ stamp: true, video: { ...video, width: 640, height: 8 } })).toBe(
      'testsrc2=size=640x8:rate=30',
    );
  });

  test('TEST_SOURCE_STAMP turns it on (the default) and off', () => {
    const env = { v4l2Encoder: 'libx264' as const };
    expect(valueOf(buildEncoderCommand(loadAgentConfig({}), env, 1).args, '-i')).toContain('RTCTIME');
    const off = buildEncoderCommand(loadAgentConfig({ TEST_SOURCE_STAMP: 'false' }), env, 1);
    expect(valueOf(off.args, '-i')).toBe('testsrc2=size=640x480:rate=30');
  });
});

describe('rpicam source', () => {
  test('rpicam-vid with its libav backend writing baseline H.264 in MPEG-TS to the loopback port', () => {
    expect(buildRpicamCommand({ rpicamVidPath: 'rpicam-vid', video, port: 40000 })).toEqual({
      command: 'rpicam-vid',
      // prettier-ignore
      args: [
        '-t', '0', '-n',
        '--width', '640', '--height', '480', '--framerate', '30',
        '--bitrate', '2000000', '--intra', '30', '--inline', '--profile', 'baseline',
        '--codec', 'libav', '--libav-format', 'mpegts', '--low-latency',
        '-o', 'udp://127.0.0.1:40000?pkt_size=1316&connect=1',
      ],
      gracefulStop: 'sigint',
    });
  });
});

describe('v4l2 source', () => {
  const base = {
    ffmpegPath: 'ffmpeg',
    device: '/dev/video0',
    inputFormat: 'mjpeg' as const,
    video,
    port: 40000,
  };

  test('libx264: the V4L2 input, then the same live encoding as the test source', () => {
    const { args, gracefulStop } = buildV4l2Command({ ...base, encoder: 'libx264' });
    expect(gracefulStop).toBe('q-stdin');
    // prettier-ignore
    expect(args).toEqual([
      '-hide_banner', '-nostats', '-loglevel', 'warning',
      '-f', 'v4l2', '-input_format', 'mjpeg', '-video_size', '640x480', '-framerate', '30', '-i', '/dev/video0',
      ...X264_AND_MPEGTS,
    ]);
  });

  test('h264_v4l2m2m: the hardware encoder in Constrained Baseline, SPS/PPS repeated before keyframes', () => {
    const { args } = buildV4l2Command({ ...base, inputFormat: 'yuyv422', encoder: 'h264_v4l2m2m' });
    expect(valueOf(args, '-input_format')).toBe('yuyv422');
    // prettier-ignore
    expect(args.slice(args.indexOf('-c:v'), args.indexOf('-an'))).toEqual([
      '-c:v', 'h264_v4l2m2m', '-pix_fmt', 'yuv420p', '-b:v', '2000000', '-g', '30', '-profile:v', '578',
      '-bsf:v', 'dump_extra=freq=keyframe',
    ]);
    expect(args).not.toContain('libx264');
  });

  test.each([
    ['auto', true, true, 'h264_v4l2m2m'],
    ['auto', true, false, 'libx264'],
    ['auto', false, true, 'libx264'],
    ['auto', false, false, 'libx264'],
    ['libx264', true, true, 'libx264'],
    ['h264_v4l2m2m', false, false, 'h264_v4l2m2m'],
  ] as const)(
    'V4L2_ENCODER=%s, ffmpeg has it: %s, device present: %s → %s',
    (setting, ffmpegHasM2m, device, expected) => {
      expect(resolveV4l2Encoder(setting, { ffmpegHasM2m, m2mDevicePresent: device })).toBe(expected);
    },
  );
});

describe('buildEncoderCommand', () => {
  test('picks the configured source and its executable', () => {
    const env = { fontFile: FONT, v4l2Encoder: 'libx264' as const };
    const test = buildEncoderCommand(loadAgentConfig({ FFMPEG_PATH: '/x/ffmpeg' }), env, 1);
    expect(test.command).toBe('/x/ffmpeg');
    expect(valueOf(test.args, '-i')).toContain('drawtext');

    const rpicam = buildEncoderCommand(
      loadAgentConfig({ CAMERA_SOURCE: 'rpicam', RPICAM_VID_PATH: '/y/rpicam-vid' }),
      env,
      1,
    );
    expect(rpicam).toMatchObject({ command: '/y/rpicam-vid', gracefulStop: 'sigint' });

    const v4l2 = buildEncoderCommand(
      loadAgentConfig({ CAMERA_SOURCE: 'v4l2', V4L2_DEVICE: '/dev/video4', V4L2_INPUT_FORMAT: 'yuyv422' }),
      { v4l2Encoder: 'h264_v4l2m2m' },
      1,
    );
    expect(valueOf(v4l2.args, '-i')).toBe('/dev/video4');
    expect(valueOf(v4l2.args, '-c:v')).toBe('h264_v4l2m2m');
  });
});
