// A world built from a Scenario text (file name for messages), and the one-line errors a text gets.
import { buildWorld, type World } from '../../src/scenario/build.js';
import { formatUserError, ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';

/** The world of a Scenario text at seed 1. */
export function buildText(text: string, file: string): World {
  return buildWorld(loadScenarioText(text, file), 1);
}

/** The errors (file:line:col: field: message) building the text reports; none when it builds. */
export function errorsOfText(text: string, file: string): string[] {
  try {
    buildText(text, file);
    return [];
  } catch (e) {
    if (e instanceof ScenarioError) return e.errors.map(formatUserError);
    throw e;
  }
}

/**
 * The Scenario document of the control-plane tests: three nodes on `cidr`, no cluster DNS, endpoint and
 * proxy sync delays of 1 s, no traffic, one fault per item of `faults` (each a flow mapping). The
 * manifests follow it after `---`.
 */
export function threeNodeScenario(name: string, cidr: string, faults: string[]): string {
  return `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: ${name} }
spec:
  cluster:
    network: { cidr: ${cidr} }
    dns: { enabled: false }
    endpointDelay: 1s
    proxySyncDelay: 1s
    nodes: [{ name: node1 }, { name: node2 }, { name: node3 }]
  traffic: []
  faults:${faults.length === 0 ? ' []' : ''}
${faults.map((f) => `    - ${f}`).join('\n')}
`;
}
