// scenario/errors — re-exports the user-error records from core for the scenario layer and the CLI.
export { formatPath, formatUserError, ScenarioError, type UserError } from '../core/user-error.js';
