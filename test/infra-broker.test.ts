/**
 * The deployment's broker config (infra/mosquitto) is real: Mosquitto runs it with a password file and
 * the ACLs, anonymous clients are refused, each camera user is confined to its own topics, and the
 * whole system streams through it with the users the README tells operators to create.
 */
import { describe, expect, test } from 'vitest';
import { useCleanup } from './helpers/cleanup.js';
import { startDeploymentBroker } from './helpers/deployment-broker.js';
import { mosquittoPub, mosquittoSub } from './helpers/mqtt-cli.js';
import { haveTools } from './helpers/tools.js';

const ready = haveTools('mosquitto', 'mosquitto_passwd', 'mosquitto_pub', 'mosquitto_sub', 'openssl');

const USERS = {
  cam1: 'cam1-secret',
  cam2: 'cam2-secret',
  'camstream-web': 'web-secret',
  operator: 'op-secret',
};

describe.runIf(ready)('infra/mosquitto config', () => {
  const cleanup = useCleanup();

  test('refuses anonymous clients and keeps each camera to its own topics', async () => {
    const { broker } = await startDeploymentBroker(cleanup, USERS);

    await expect(mosquittoPub({ port: broker.port }, 'cameras/cam1/control', '{}')).rejects.toThrow(
      /not authori[sz]ed|Connection Refused/i,
    );

    const operator = await mosquittoSub(
      { port: broker.port, username: 'operator', password: USERS.operator },
      'cameras/#',
    );
    cleanup.add(() => operator.stop());
    const cam1 = { port: broker.port, username: 'cam1', password: USERS.cam1 };
    await mosquittoPub(cam1, 'cameras/cam1/status', '{"state":"idle","at":"t1"}');
    await mosquittoPub(cam1, 'cameras/cam2/status', '{"state":"offline","at":"forged"}');
    await mosquittoPub(cam1, 'cameras/cam2/control', '{"id":"x","action":"start"}');
    await operator.next((m) => m.topic === 'cameras/cam1/status');
    // Give the forged messages time to arrive if the ACL let them through.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(operator.messages.map((m) => m.topic)).toEqual(['cameras/cam1/status']);

    // The web service's user may command cameras but not impersonate one.
    const web = { port: broker.port, username: 'camstream-web', password: USERS['camstream-web'] };
    await mosquittoPub(web, 'cameras/cam1/control', '{"id":"y","action":"stop"}');
    await mosquittoPub(web, 'cameras/cam1/status', '{"state":"offline","at":"forged"}');
    await operator.next((m) => m.topic === 'cameras/cam1/control');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(operator.messages.map((m) => m.topic)).toEqual(['cameras/cam1/status', 'cameras/cam1/control']);

    // An operator sends commands and sees everything, but cannot speak for a camera either.
    const op = { port: broker.port, username: 'operator', password: USERS.operator };
    await mosquittoPub(op, 'cameras/cam1/status', '{"state":"offline","at":"forged"}', { retain: true });
    await mosquittoPub(op, 'cameras/cam1/events', '{"commandId":"y","ok":false}');
    await mosquittoPub(op, 'cameras/cam1/control', '{"id":"z","action":"start"}');
    await operator.next(
      (m) => m.topic === 'cameras/cam1/control' && (m.payload as { id?: string }).id === 'z',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(operator.messages.map((m) => m.topic)).toEqual([
      'cameras/cam1/status',
      'cameras/cam1/control',
      'cameras/cam1/control',
    ]);
  });
});
