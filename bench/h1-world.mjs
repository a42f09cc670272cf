// bench/h1-world — H1's world (bench/run.ts's H1_SCENARIO, read from TREE's source) built from TREE's dist/
// with another simulated duration: shared by bench/h1-at.mjs and bench/h1-window.mjs.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The built H1 world of checkout `tree` (seed 7, as bench H1) running `durS` seconds of load. */
export async function h1World(tree, durS) {
  const root = resolve(tree);
  const src = readFileSync(`${root}/bench/run.ts`, 'utf8');
  const text = /const H1_SCENARIO = `([\s\S]*?)`;/.exec(src)?.[1];
  if (text === undefined || !text.includes('duration: 20s')) throw new Error(`${root}/bench/run.ts: no H1_SCENARIO with 'duration: 20s' to change`);
  const { loadScenarioText } = await import(pathToFileURL(`${root}/dist/src/scenario/load.js`).href);
  const { buildWorld } = await import(pathToFileURL(`${root}/dist/src/scenario/build.js`).href);
  return buildWorld(loadScenarioText(text.replace('duration: 20s', `duration: ${durS}s`), 'h1.yaml'), 7);
}
