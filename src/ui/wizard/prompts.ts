// The prompt layer on @inquirer/prompts. Ctrl-C (inquirer's ExitPromptError) becomes
// WizardCancelled, so the wizard stops before anything is applied.

import { confirm, input, search, select } from '@inquirer/prompts';
import { styleText } from 'node:util';
import { WizardCancelled, type InputQuestion, type PromptLayer } from './layer.ts';

async function cancellable<T>(prompt: Promise<T>): Promise<T> {
  try {
    return await prompt;
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') throw new WizardCancelled();
    throw error;
  }
}

/**
 * An input whose value is checked on every keystroke. inquirer's input prompt checks only on
 * Enter and cannot draw text under the line, so this is a search prompt whose one "result" is the
 * typed value: valid, or shown struck out with the reason. initialValue makes the default editable.
 */
function liveInput(question: InputQuestion & { hint: (value: string) => string | null }): Promise<string> {
  return search<string>({
    message: question.message,
    ...(question.default ? { initialValue: question.default } : {}),
    source: (term) => {
      const value = term ?? '';
      if (value === '') return question.emptyMeans ? [{ value, name: `(nothing: ${question.emptyMeans})` }] : [];
      const problem = question.hint(value);
      // name === the typed term, so a failed validate() shows its message instead of rewriting the line.
      return [problem ? { value, name: value, disabled: problem } : { value, name: value, description: '⏎ to accept' }];
    },
    ...(question.validate ? { validate: question.validate } : {}),
    theme: {
      style: {
        disabled: (text: string) => styleText('red', `✗ ${text}`),
        keysHelpTip: () => undefined,
      },
    },
  });
}

export function createInquirerPrompts(): PromptLayer {
  return {
    select: (question) =>
      cancellable(
        select({
          message: question.message,
          choices: question.choices,
          ...(question.default !== undefined ? { default: question.default } : {}),
          pageSize: 12,
        }),
      ),
    search: (question) =>
      cancellable(
        search({
          message: question.message,
          source: (term) => question.source(term ?? ''),
          pageSize: 12,
        }),
      ),
    input: (question) => {
      const { hint } = question;
      if (hint) return cancellable(liveInput({ ...question, hint }));
      return cancellable(
        input({
          message: question.message,
          ...(question.default !== undefined ? { default: question.default, prefill: 'editable' as const } : {}),
          ...(question.validate ? { validate: question.validate } : {}),
        }),
      );
    },
    confirm: (question) => cancellable(confirm({ message: question.message, default: question.default })),
  };
}
