/**
 * MQTT over TLS for real: infra/mosquitto/mosquitto.conf in Mosquitto, with its TLS listener, its
 * users and ACL, and a CA and certificates made now by infra/mosquitto/make-certs.sh. The built agent
 * and service connect with mqtts:// and a stream starts through them. Each refusal comes with a
 * sentence a person understands (describeMqttError's): a CA that did not sign the broker's
 * certificate, an expired certificate, a wrong password, a certificate issued for another host name,
 * mqtts:// pointed at the plain listener. The agent then exits with status 1 (systemd starts it
 * again) within seconds, never hanging; the service stays up, answers starts with
 * WEB_ERR_BROKER_UNAVAILABLE, and connects once the broker is fixed.
 */
import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import type { Cleanup } from './helpers/cleanup.js';
import { tempDir, useCleanup } from './helpers/cleanup.js';
import { makeCerts, startDeploymentBroker } from './helpers/deployment-broker.js';
import { freeTcpPort, freeUdpPort } from './helpers/ports.js';
import { runNode, type ManagedProcess } from './helpers/processes.js';
import { AGENT_CLI, json, SERVICE_CLI } from './helpers/system.js';
import { haveTools } from './helpers/tools.js';
import { GiveUp, waitFor } from './helpers/wait.js';

const execFileAsync = promisify(execFile);

const ready = haveTools('mosquitto', 'mosquitto_passwd', 'openssl', 'ffmpeg');

const USERS = { cam1: 'cam1-secret', 'camstream-web': 'web-secret' };
/** The web service's broker user (infra/mosquitto/camstream.acl). */
const WEB_USER = { MQTT_USERNAME: 'camstream-web', MQTT_PASSWORD: USERS['camstream-web'] };
const CAM1_USER = { MQTT_USERNAME: 'cam1', MQTT_PASSWORD: USERS.cam1 };

interface Web {
  readonly proc: ManagedProcess;
  readonly baseUrl: string;
  readonly udpPort: number;
  api(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }>;
}

async function startWeb(cleanup: Cleanup, env: Record<string, string>): Promise<Web> {
  const hlsDir = await tempDir(cleanup, 'camstream-tls-hls-');
  const port = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const proc = runNode('web', SERVICE_CLI, {
    HOST: '127.0.0.1',
    PORT: String(port),
    UDP_LISTEN: `udp://127.0.0.1:${udpPort}`,
    HLS_DIR: hlsDir,
    LOG_LEVEL: 'info',
    ...env,
  });
  cleanup.add(() => proc.stop());
  await waitFor(`the web service on ${baseUrl}`, async () => {
    if (proc.proc.exitCode !== null) throw new GiveUp(`web service exited:\n${proc.output()}`);
    return (await fetch(`${baseUrl}/api/stream`)).ok;
  });
  const api: Web['api'] = async (path, init) => {
    const response = await fetch(`${baseUrl}${path}`, init);
    const text = await response.text();
    return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
  return { proc, baseUrl, udpPort, api };
}

function startAgent(cleanup: Cleanup, env: Record<string, string>): ManagedProcess {
  const agent = runNode('agent', AGENT_CLI, {
    CAMERA_SOURCE: 'test',
    UDP_TARGET: 'udp://127.0.0.1:9',
    LOG_LEVEL: 'info',
    ...env,
  });
  cleanup.add(() => agent.stop());
  return agent;
}

/** The process's exit, or a failure naming what it printed if it is still running after `ms`. */
async function exitWithin(proc: ManagedProcess, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${proc.name} still running after ${ms} ms:\n${proc.output()}`)),
      ms,
    );
  });
  try {
    return await Promise.race([proc.exited(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe.runIf(ready)('MQTT over TLS (infra/mosquitto, real Mosquitto)', () => {
  const cleanup = useCleanup();

  test('the agent and the service connect with mqtts://, a CA file and passwords, and a stream starts', async () => {
    const broker = await startDeploymentBroker(cleanup, USERS, { clients: ['cam1'] });
    const ca = join(broker.certDir, 'ca.crt');
    const web = await startWeb(cleanup, { MQTT_URL: broker.tlsUrl, MQTT_CA_FILE: ca, ...WEB_USER });
    // The agent also proves itself with a client certificate signed by the same CA.
    const agent = startAgent(cleanup, {
      MQTT_URL: broker.tlsUrl,
      MQTT_CA_FILE: ca,
      MQTT_CERT_FILE: join(broker.certDir, 'cam1.crt'),
      MQTT_KEY_FILE: join(broker.certDir, 'cam1.key'),
      ...CAM1_USER,
      UDP_TARGET: `udp://127.0.0.1:${web.udpPort}`,
    });

    await waitFor(
      () => `the camera's idle status through the TLS broker\n${agent.output()}\n${web.proc.output()}`,
      async () => {
        if (agent.proc.exitCode !== null) throw new GiveUp(`agent exited:\n${agent.output()}`);
        const { body } = await web.api('/api/stream');
        return (body as { camera?: { state?: string } | null }).camera?.state === 'idle';
      },
    );
    expect(web.proc.output()).toMatch(/connected to the MQTT broker/);
    expect(agent.output()).toMatch(/connected to the MQTT broker/);

    const started = await web.api('/api/stream/start', json());
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const { body } = await web.api('/api/stream');
    expect(body).toMatchObject({ state: 'live', camera: { state: 'streaming' } });
    const playlist = await fetch(`${web.baseUrl}/hls/stream.m3u8`);
    expect(playlist.status).toBe(200);
    expect(await playlist.text()).toMatch(/#EXTINF:/);

    expect((await web.api('/api/stream/stop', json())).status).toBe(200);
    // Neither ever wrote a password in its log.
    for (const secret of Object.values(USERS)) {
      expect(web.proc.output()).not.toContain(secret);
      expect(agent.output()).not.toContain(secret);
    }
  });

  test('the agent is refused in words and exits 1: wrong CA, expired certificate, wrong password, another host name, a plain port', async () => {
    const broker = await startDeploymentBroker(cleanup, USERS, { names: 'localhost' });
    const expired = await startDeploymentBroker(cleanup, USERS, { days: -1 });
    const otherCaDir = await tempDir(cleanup, 'camstream-other-ca-');
    await makeCerts(otherCaDir, []);
    const ca = join(broker.certDir, 'ca.crt');

    const cases: { name: string; env: Record<string, string>; says: RegExp }[] = [
      {
        name: 'a CA that did not sign the broker’s certificate',
        env: { MQTT_URL: broker.tlsUrl, MQTT_CA_FILE: join(otherCaDir, 'ca.crt'), ...CAM1_USER },
        says: /the broker’s TLS certificate is not signed by a trusted CA: set MQTT_CA_FILE/,
      },
      {
        name: 'no CA file (the system CAs do not know ours)',
        env: { MQTT_URL: broker.tlsUrl, ...CAM1_USER },
        says: /the broker’s TLS certificate is not signed by a trusted CA: set MQTT_CA_FILE/,
      },
      {
        name: 'an expired server certificate',
        env: { MQTT_URL: expired.tlsUrl, MQTT_CA_FILE: join(expired.certDir, 'ca.crt'), ...CAM1_USER },
        says: /the broker’s TLS certificate has expired: renew it/,
      },
      {
        name: 'a wrong password',
        env: { MQTT_URL: broker.tlsUrl, MQTT_CA_FILE: ca, MQTT_USERNAME: 'cam1', MQTT_PASSWORD: 'wrong' },
        says: /MQTT_USERNAME, MQTT_PASSWORD/,
      },
      {
        // make-certs.sh issued the server's certificate for DNS:localhost only; reached by its IP.
        name: 'a certificate for another host name',
        env: {
          MQTT_URL: broker.tlsUrl.replace('//localhost:', '//127.0.0.1:'),
          MQTT_CA_FILE: ca,
          ...CAM1_USER,
        },
        says: /the broker’s TLS certificate is not for this host name \(it is for DNS:localhost, not 127\.0\.0\.1\): use a name it was issued for in MQTT_URL/,
      },
      {
        // Mosquitto's plain listener reads the ClientHello as a bad packet and resets the connection.
        name: 'mqtts:// to the plain listener',
        env: { MQTT_URL: broker.url.replace(/^mqtt:/, 'mqtts:'), MQTT_CA_FILE: ca, ...CAM1_USER },
        says: /the broker closed the connection during the TLS handshake: this port does not speak TLS/,
      },
    ];

    const agents = cases.map((c) => ({ ...c, agent: startAgent(cleanup, c.env) }));
    for (const { name, agent, says } of agents) {
      const exit = await exitWithin(agent, 30_000);
      const output = agent.output();
      expect(exit.code, `${name}:\n${output}`).toBe(1);
      expect(output, name).toMatch(says);
      expect(output, name).toMatch(/could not start: the MQTT broker at [^ ]+: /);
      expect(output, name).not.toContain(USERS.cam1);
    }
  });

  test('the service stays up, says why, refuses starts with WEB_ERR_BROKER_UNAVAILABLE, and connects once the broker is fixed', async () => {
    const broker = await startDeploymentBroker(cleanup, USERS);
    const otherCaDir = await tempDir(cleanup, 'camstream-other-ca-');
    await makeCerts(otherCaDir, []);

    const [wrongCa, wrongPassword] = await Promise.all([
      startWeb(cleanup, {
        MQTT_URL: broker.tlsUrl,
        MQTT_CA_FILE: join(otherCaDir, 'ca.crt'),
        ...WEB_USER,
      }),
      startWeb(cleanup, {
        MQTT_URL: broker.tlsUrl,
        MQTT_CA_FILE: join(broker.certDir, 'ca.crt'),
        MQTT_USERNAME: 'camstream-web',
        MQTT_PASSWORD: 'new-web-secret',
      }),
    ]);
    // Started after the two (three services starting at once on a loaded machine took over 15 s).
    const plainPort = await startWeb(cleanup, {
      MQTT_URL: broker.url.replace(/^mqtt:/, 'mqtts:'),
      MQTT_CA_FILE: join(broker.certDir, 'ca.crt'),
      ...WEB_USER,
    });
    await waitFor(
      () => `the service to say its CA is wrong:\n${wrongCa.proc.output()}`,
      () => /not signed by a trusted CA: set MQTT_CA_FILE/.test(wrongCa.proc.output()),
    );
    await waitFor(
      () => `the service to say its password is wrong:\n${wrongPassword.proc.output()}`,
      () => /MQTT_USERNAME, MQTT_PASSWORD/.test(wrongPassword.proc.output()),
    );
    await waitFor(
      () => `the service to say the port does not speak TLS:\n${plainPort.proc.output()}`,
      () => /during the TLS handshake: this port does not speak TLS/.test(plainPort.proc.output()),
    );
    for (const web of [wrongCa, wrongPassword, plainPort]) {
      const start = await web.api('/api/stream/start', json());
      expect(start.status).toBe(503);
      expect(start.body).toMatchObject({ code: 'WEB_ERR_BROKER_UNAVAILABLE' });
      expect(web.proc.proc.exitCode).toBeNull();
      expect(web.proc.output()).not.toContain('new-web-secret');
    }
    // The same refusal every second is said once, not once a second.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(wrongCa.proc.output().match(/not signed by a trusted CA/g)).toHaveLength(1);

    // The operator gives the service's user the password the service has: it connects by itself.
    await execFileAsync('mosquitto_passwd', ['-b', broker.passwdFile, 'camstream-web', 'new-web-secret']);
    await chmod(broker.passwdFile, 0o644); // mosquitto reads it after dropping root
    await broker.broker.restart();
    await waitFor(
      () => `the service to connect once its password is right:\n${wrongPassword.proc.output()}`,
      () => /connected to the MQTT broker/.test(wrongPassword.proc.output()),
      { timeoutMs: 20_000 },
    );
    expect(wrongCa.proc.output()).not.toMatch(/connected to the MQTT broker/);
  });
});
