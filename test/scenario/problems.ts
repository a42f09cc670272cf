// test/scenario/problems — what a scenario text's load and build report, one formatted line per problem
// (`bad.yaml:L:C: field: message`), or ['ok']. Shared by the tests that check messages.
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError, ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';

export function problems(text: string): string[] {
  try {
    buildWorld(loadScenarioText(text, 'bad.yaml'), 1);
    return ['ok'];
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    return e.errors.map(formatUserError);
  }
}
