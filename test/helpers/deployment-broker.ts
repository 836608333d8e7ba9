/**
 * infra/mosquitto/mosquitto.conf run for real: its users (mosquitto_passwd), its ACL, and its TLS
 * listener with a CA and certificates made now by infra/mosquitto/make-certs.sh. File paths point
 * into a temporary folder; the TLS listener moves from 8883 to a free loopback port; the plain
 * 1883 loopback listener is the helper's own (startMosquitto's port).
 */
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Cleanup } from './cleanup.js';
import { tempDir } from './temp-dir.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';
import { freeTcpPort } from './ports.js';
import { ROOT } from './system.js';

const execFileAsync = promisify(execFile);

export const MOSQUITTO_CONF = join(ROOT, 'infra/mosquitto/mosquitto.conf');
export const MAKE_CERTS = join(ROOT, 'infra/mosquitto/make-certs.sh');

export interface DeploymentBroker {
  readonly broker: Mosquitto;
  /** The plain listener (loopback). */
  readonly url: string;
  /** mqtts://localhost:<port>: the server certificate is for localhost (and 127.0.0.1 by default). */
  readonly tlsUrl: string;
  /** ca.crt, server.crt, <client>.crt and their keys. */
  readonly certDir: string;
  /** The password file (mosquitto_passwd); the broker reads it again on restart(). */
  readonly passwdFile: string;
}

export interface DeploymentBrokerOptions {
  /** Client certificates to make beside the server's (signed by the same CA). */
  readonly clients?: string[];
  /** Lifetime of the server and client certificates; < 0: already expired. */
  readonly days?: number;
  /** The server certificate's names (subjectAltName), comma-separated; default localhost,127.0.0.1. */
  readonly names?: string;
}

export const SERVER_NAMES = 'localhost,127.0.0.1';

/** Runs make-certs.sh; `days` < 0 makes certificates that have already expired. */
export async function makeCerts(
  dir: string,
  clients: string[],
  days?: number,
  names = SERVER_NAMES,
): Promise<void> {
  await execFileAsync('sh', [MAKE_CERTS, dir, names, ...clients], {
    env: { ...process.env, ...(days !== undefined && { DAYS: String(days) }) },
  });
  await chmod(dir, 0o755);
  // mosquitto reads the server key after dropping root (in production: chown mosquitto server.key).
  await chmod(join(dir, 'server.key'), 0o644);
}

export async function startDeploymentBroker(
  cleanup: Cleanup,
  users: Record<string, string>,
  { clients = [], days, names }: DeploymentBrokerOptions = {},
): Promise<DeploymentBroker> {
  const dir = await tempDir(cleanup, 'camstream-infra-');
  await chmod(dir, 0o755); // mosquitto reads these files after dropping root
  const passwd = join(dir, 'camstream.passwd');
  await writeFile(passwd, '', { mode: 0o644 });
  for (const [user, password] of Object.entries(users)) {
    await execFileAsync('mosquitto_passwd', ['-b', passwd, user, password]);
  }
  const acl = join(dir, 'camstream.acl');
  await writeFile(acl, await readFile(join(ROOT, 'infra/mosquitto/camstream.acl'), 'utf8'), { mode: 0o644 });
  const certDir = join(dir, 'certs');
  await makeCerts(certDir, clients, days, names);
  const tlsPort = await freeTcpPort();

  const conf = await readFile(MOSQUITTO_CONF, 'utf8');
  const lines = conf.split('\n');
  if (!lines.includes('listener 1883 127.0.0.1') || !lines.includes('listener 8883')) {
    throw new Error('mosquitto.conf: expected "listener 1883 127.0.0.1" and "listener 8883"');
  }
  const extraConfig = lines
    .filter((line) => !/^(listener 1883|persistence|persistence_location)\b/.test(line))
    .map((line) =>
      line
        .replace(/^listener 8883$/, `listener ${tlsPort} 127.0.0.1`)
        .replace(/^password_file .*/, `password_file ${passwd}`)
        .replace(/^acl_file .*/, `acl_file ${acl}`)
        .replace(/^(cafile|certfile|keyfile) \/etc\/mosquitto\/certs\/(.*)$/, `$1 ${certDir}/$2`),
    )
    .join('\n');
  // The helper's own listener (plain, loopback) comes first: the TLS lines belong to ours.
  const broker = await startMosquitto({ extraConfig });
  cleanup.add(() => broker.stop());
  return { broker, url: broker.url, tlsUrl: `mqtts://localhost:${tlsPort}`, certDir, passwdFile: passwd };
}
