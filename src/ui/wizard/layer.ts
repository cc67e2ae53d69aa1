// The prompt layer the wizard talks to. prompts.ts implements it with @inquirer/prompts; unit
// tests implement it with scripted answers, so every step is testable without a terminal.

export interface Choice<T> {
  value: T;
  name: string;
  /** Shown under the list for the highlighted choice. */
  description?: string;
  disabled?: boolean | string;
}

export interface SelectQuestion<T> {
  message: string;
  choices: Array<Choice<T>>;
  /** The value the cursor starts on. */
  default?: T;
}

export interface SearchQuestion<T> {
  message: string;
  /** Called with what the user has typed so far (empty at first): the choices to show. */
  source: (term: string) => Array<Choice<T>> | Promise<Array<Choice<T>>>;
}

export interface InputQuestion {
  message: string;
  /** Pre-filled and editable. */
  default?: string;
  /** Checked on Enter: true, or the message to show. May call an API. */
  validate?: (value: string) => true | string | Promise<true | string>;
  /** Checked on every keystroke (pure, fast): null when fine, else a short hint shown inline. */
  hint?: (value: string) => string | null;
  /** An empty answer is allowed and means this (e.g. "go back"). */
  emptyMeans?: string;
}

export interface ConfirmQuestion {
  message: string;
  default: boolean;
}

export interface PromptLayer {
  select<T>(question: SelectQuestion<T>): Promise<T>;
  search<T>(question: SearchQuestion<T>): Promise<T>;
  input(question: InputQuestion): Promise<string>;
  confirm(question: ConfirmQuestion): Promise<boolean>;
}

/** The user pressed Ctrl-C at a prompt. Thrown by the layer; the wizard applies nothing after it. */
export class WizardCancelled extends Error {
  override name = 'WizardCancelled';
  constructor() {
    super('cancelled at a prompt');
  }
}
