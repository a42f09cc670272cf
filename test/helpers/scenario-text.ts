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
