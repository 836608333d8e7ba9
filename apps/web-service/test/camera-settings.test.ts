/** CAMERAS, UDP_PORT_RANGE and the targets cameras are told: pure parsing, and the config's checks. */
import { describe, expect, test } from 'vitest';
import { PortPool } from '../src/cameras/ports.js';
import { parseCameraList, parsePortRange, targetFor } from '../src/cameras/settings.js';
import { loadServiceConfig } from '../src/config.js';

describe('camera settings', () => {
  test('CAMERAS: entries separated by spaces or commas, sources joined by +', () => {
    expect(
      parseCameraList(
        'garage=udp://0.0.0.0:1235, door=udp://[::1]:1236?sources=192.168.1.20+fe80::1\n shed=udp://h:7',
      ),
    ).toEqual([
      { id: 'garage', listen: 'udp://0.0.0.0:1235', sources: undefined },
      { id: 'door', listen: 'udp://[::1]:1236', sources: ['192.168.1.20', 'fe80::1'] },
      { id: 'shed', listen: 'udp://h:7', sources: undefined },
    ]);
  });

  test('CAMERAS: every bad entry named at once', () => {
    let message = '';
    try {
      parseCameraList(
        'a/b=udp://h:1 ok=udp://h:2 nourl bad=udp://h:99999 src=udp://h:3?sources=nope ..=udp://h:4',
      );
    } catch (err) {
      message = (err as Error).message;
    }
    for (const bad of [
      '"a/b=udp://h:1"',
      '"nourl"',
      '"bad=udp://h:99999"',
      '"src=udp://h:3?sources=nope"',
      '"..=udp://h:4"',
    ]) {
      expect(message).toContain(bad);
    }
    expect(message).not.toContain('"ok=');
    expect(() => parseCameraList('events=udp://h:5')).toThrow(/"events" is a route name/);
    expect(() => parseCameraList('  ')).toThrow(/lists no camera/);
  });

  test('UDP_PORT_RANGE', () => {
    expect(parsePortRange('1240-1339')).toEqual({ first: 1240, last: 1339 });
    expect(parsePortRange('5000-5000')).toEqual({ first: 5000, last: 5000 });
    for (const bad of ['1240', '1339-1240', '0-10', '1-65536', 'a-b', '1240-1339-1']) {
      expect(() => parsePortRange(bad), bad).toThrow(/first-last/);
    }
  });

  test('the target a camera is told: the listen address, or UDP_TARGET_HOST; none for a wildcard without it', () => {
    expect(targetFor('udp://127.0.0.1:1240', undefined)).toBe('udp://127.0.0.1:1240');
    expect(targetFor('udp://0.0.0.0:1240', undefined)).toBeUndefined();
    expect(targetFor('udp://[::]:1240', undefined)).toBeUndefined();
    expect(targetFor('udp://0.0.0.0:1240', 'pi-server.local')).toBe('udp://pi-server.local:1240');
    expect(targetFor('udp://0.0.0.0:1240', 'fd00::2')).toBe('udp://[fd00::2]:1240');
  });

  test('the port pool: lowest free first, configured ports skipped, freed ports reused, undefined when full', () => {
    const pool = new PortPool({ first: 10, last: 13 }, [11, 99]);
    expect([pool.take(), pool.take(), pool.take()]).toEqual([10, 12, 13]);
    expect(pool.take()).toBeUndefined();
    pool.release(12);
    expect(pool.take()).toBe(12);
  });

  test('the config refuses a camera id or UDP port used twice, with the others', () => {
    expect(() =>
      loadServiceConfig({
        UDP_LISTEN: 'udp://127.0.0.1:1234',
        CAMERAS: 'cam1=udp://127.0.0.1:1300 two=udp://0.0.0.0:1234',
      }),
    ).toThrow(/camera cam1 is listed twice[\s\S]*cameras cam1 and two share UDP port 1234/);
    expect(() => loadServiceConfig({ CAMERA_DISCOVERY: 'maybe', UDP_PORT_RANGE: 'x' })).toThrow(
      /CAMERA_DISCOVERY="maybe": must be one of on, off[\s\S]*UDP_PORT_RANGE="x"/,
    );
    const config = loadServiceConfig({ CAMERAS: 'two=udp://127.0.0.1:1300' });
    expect(config).toMatchObject({ cameraDiscovery: true, udpPortRange: { first: 1240, last: 1339 } });
  });
});
