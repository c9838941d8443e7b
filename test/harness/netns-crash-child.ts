/**
 * For the network namespace's crash test: starts a namespace with one long-running
 * process in it, prints `{"child": pid, "agents": [pid]}` and waits to be killed.
 */
import { startNetworkNamespace } from './netns.js';

const ns = await startNetworkNamespace({ cidr: '10.244.0.0/16' });
const child = await ns.spawn('sleep', ['600'], { logFile: '/dev/null' });
console.log(JSON.stringify({ child: child.pid, agents: [ns.agentPid] }));
setInterval(() => undefined, 60_000);
