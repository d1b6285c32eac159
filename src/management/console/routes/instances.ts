/**
 * Instances overview: GetInstances through the Management Server's invoker (the functions the API
 * on 8474 runs, called in-process as the logged-on administrator); Start / Stop / Restart are POST
 * forms calling StartInstances / StopInstances / RestartInstances with the one instance ID.
 */
import type { FastifyInstance } from 'fastify';
import type { InstanceView } from '../../instances/instance-lifecycle.js';
import { describeInstanceIdProblem } from '../../instance-ids.js';
import { type ConsoleContext, describeFailure, frameFor, sendHtml } from '../context.js';
import { ConsoleError } from '../errors.js';
import { currentUserName, redirectWith } from '../session.js';
import { instancesPage } from '../views/instances.js';

const ACTIONS = { start: 'StartInstances', stop: 'StopInstances', restart: 'RestartInstances' } as const;
const DONE = { start: 'started', stop: 'stopped', restart: 'restarted' } as const;
type InstanceAction = keyof typeof ACTIONS;

export function registerInstanceRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/instances', async (request, reply) => {
    const frame = frameFor(request, 'Instances', 'instances');
    try {
      const instances = (await ctx.invoke('GetInstances', { instanceFilter: '*' }, { userName: currentUserName(request) })) as InstanceView[];
      return sendHtml(reply, instancesPage(frame, instances));
    } catch (error) {
      return sendHtml(reply, instancesPage({ ...frame, flash: { kind: 'error', text: describeFailure(request, error, 'Listing the instances') } }, null));
    }
  });

  app.post<{ Params: { instanceId: string; action: InstanceAction }; Body: { _csrf: string } }>('/instances/:instanceId/:action', {
    schema: {
      params: { type: 'object', properties: { instanceId: { type: 'string', maxLength: 64 }, action: { type: 'string', enum: Object.keys(ACTIONS) } }, required: ['instanceId', 'action'], additionalProperties: false },
      body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 100 } }, required: ['_csrf'], additionalProperties: false },
    },
  }, async (request, reply) => {
    const { instanceId, action } = request.params;
    // An ID only: a filter term (`*`, `*host`, `.running`) must not slip in through the URL.
    if (describeInstanceIdProblem(instanceId)) throw new ConsoleError('NOT_FOUND', `Instance '${instanceId}' does not exist.`);
    const userName = currentUserName(request);
    try {
      await ctx.invoke(ACTIONS[action], { instanceFilter: instanceId }, { userName });
    } catch (error) {
      return redirectWith(request, reply, '/instances', { kind: 'error', text: describeFailure(request, error, `${ACTIONS[action]} ${instanceId}`) });
    }
    request.log.info({ user: userName, instance: instanceId, action }, 'console: instance action');
    return redirectWith(request, reply, '/instances', { kind: 'ok', text: `Instance '${instanceId}' was ${DONE[action]}.` });
  });
}
