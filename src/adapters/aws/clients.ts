// Builds the AWS clients irsa uses — lazily, each SDK package imported on first use — with the
// SDK's own region/credential chain (profiles and SSO included), adaptive retries, and a
// middleware that reports every call and retry to the CallObserver. Also the one place AWS errors
// become irsa's error classes; the SDK error stays reachable as `cause` because the engine decides
// on its name (NoSuchEntity, MalformedPolicyDocument, EntityAlreadyExists, Throttling…).

import type { EKSClient } from '@aws-sdk/client-eks';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import { RemoteError, UserError } from '../../core/errors.ts';
import type { CallObserver, ClusterReader, IamGateway, StsGateway } from '../../ports.ts';

export type AwsService = 'iam' | 'eks' | 'sts';

export interface AwsContextOptions {
  region?: string;
  profile?: string;
  observer?: CallObserver;
  /** Attempts per call, first one included (throttling, 5xx and network errors are retried). */
  maxAttempts?: number;
  /** One endpoint for all three services (tests; users set AWS_ENDPOINT_URL[_<SERVICE>]). */
  endpoint?: string;
}

export interface AwsContext {
  /** The region from --region, else the SDK's chain (AWS_REGION, the profile's region). */
  region(): Promise<string>;
  eks(): Promise<ClusterReader>;
  iam(): Promise<IamGateway>;
  sts(): Promise<StsGateway>;
  /** Closes the clients' sockets (tests; the CLI just exits). */
  destroy(): void;
}

// Adaptive mode adds client-side rate limiting on top of exponential backoff: useful when many
// roles are planned concurrently against IAM's low request rate.
const DEFAULT_MAX_ATTEMPTS = 8;

/** The output type of an SDK command, read off its handler (so callers need no casts). */
export type CommandOutput<C> = C extends { resolveMiddleware(...args: never[]): (...args: never[]) => Promise<{ output: infer O }> } ? O : never;

/** What an adapter needs from an SDK client; tests pass a fake with the same shape. */
export interface CommandSender {
  send(command: never): Promise<unknown>;
}

/** Sends `command` and turns a failure into RemoteError/UserError (the SDK error as `cause`). */
export async function sendCommand<C extends { input: object }>(service: AwsService, client: CommandSender, command: C): Promise<CommandOutput<C>> {
  try {
    return (await client.send(command as never)) as CommandOutput<C>;
  } catch (error) {
    throw translateAwsError(error, service, operationOf(command));
  }
}

/** "GetRoleCommand" → "GetRole". */
export const operationOf = (command: object): string => command.constructor.name.replace(/Command$/, '');

/** The SDK error's name ("NoSuchEntityException", "Throttling", …), also when wrapped as `cause`. */
export function awsErrorName(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const name = (current as { name?: unknown }).name;
    if (typeof name === 'string' && !['Error', 'RemoteError', 'UserError'].includes(name)) return name;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

export const isNoSuchEntity = (error: unknown): boolean => /^NoSuchEntity(Exception)?$/.test(awsErrorName(error));

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** Turns an SDK failure into a message that names the IAM action and the fix. */
export function translateAwsError(error: unknown, service: AwsService, operation: string): Error {
  if (error instanceof UserError || error instanceof RemoteError) return error;
  const err = (error ?? {}) as { name?: string; message?: string; code?: string; Code?: string };
  const name = err.Code ?? err.name ?? '';
  const message = String(err.message ?? error);
  const action = `${service}:${operation}`;
  const wrap = (text: string, asUser = false) => {
    const wrapped = asUser ? new UserError(text, asUser ? '--profile' : undefined) : new RemoteError(text);
    (wrapped as Error).cause = error;
    return wrapped;
  };

  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return wrap(
      `No AWS credentials found for ${action} (${message}). Pass --profile or set AWS_PROFILE (for an SSO profile run \`aws sso login --profile <name>\` first), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
      true,
    );
  }
  if (name === 'TokenProviderError' || /sso session .*expired|token is expired|refresh.*sso/i.test(message)) {
    return wrap(`The AWS SSO session for ${action} is missing or expired (${message}). Run \`aws sso login\` with the same profile, then retry.`, true);
  }
  if (/region is missing/i.test(message)) {
    const missing = new UserError('No AWS region is configured. Pass --region, set AWS_REGION, or set `region` in the AWS profile.', '--region');
    missing.cause = error;
    return missing;
  }
  if (/^(ExpiredToken|ExpiredTokenException|RequestExpired)$/.test(name)) {
    return wrap(`The AWS credentials used for ${action} have expired (${message}). Refresh them (\`aws sso login\`, a new session token) and retry.`, true);
  }
  if (/^(InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|InvalidAccessKeyId|IncompleteSignature)$/.test(name)) {
    return wrap(`AWS rejected the credentials used for ${action}: ${name} (${message}). Check the access key / profile in use (--profile, AWS_PROFILE).`, true);
  }
  if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation|UnauthorizedAccess)$/.test(name)) {
    if (service === 'sts' && operation === 'AssumeRoleWithWebIdentity') {
      return wrap(`${action} was denied: ${message}. The token's issuer, sub or aud does not match the role's trust policy, or the OIDC provider is missing.`);
    }
    const principal = /User: (\S+) is not authorized/.exec(message)?.[1] ?? 'the current AWS credentials';
    return wrap(
      `${action} was denied for ${principal}. Grant ${action} to it (docs/ci.md lists every permission irsa needs) or use credentials that have it (--profile). AWS said: ${message}`,
    );
  }
  const code = err.code ?? (err as { cause?: { code?: string } }).cause?.code;
  if ((code && NETWORK_CODES.has(code)) || name === 'TimeoutError') {
    const endpoint = process.env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] ?? process.env['AWS_ENDPOINT_URL'];
    return wrap(
      `Cannot reach AWS ${service.toUpperCase()}${endpoint ? ` at ${endpoint}` : ''} for ${operation}: ${code ?? name} (${message}). Check the network, HTTPS_PROXY${endpoint ? ', and the AWS_ENDPOINT_URL* setting' : ''}.`,
    );
  }
  // Unparseable replies (an HTML error page from a proxy, say) carry no error name: show the status.
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const label = name && name !== 'Error' && name !== 'SyntaxError' ? name : `HTTP ${status ?? 'error'}`;
  return wrap(`${action} failed: ${label}: ${message.split('\n')[0]}`);
}

type MiddlewareClient = {
  middlewareStack: {
    add(middleware: unknown, options: Record<string, unknown>): void;
    addRelativeTo(middleware: unknown, options: Record<string, unknown>): void;
  };
};

type Next = (args: unknown) => Promise<unknown>;
type Context = { commandName?: string; [key: symbol]: unknown };
const LAST_ERROR = Symbol('irsa.lastAttemptError');

/**
 * Reports each call once (initialize step: before retries) and each retry (a middleware placed
 * right after the SDK's retry middleware runs once per attempt; a second attempt is a retry, and
 * the previous attempt's error name is the reason). Only names are reported, never payloads.
 */
export function observeClient(client: object, service: AwsService, observer: CallObserver | undefined): void {
  if (!observer) return;
  const stack = (client as MiddlewareClient).middlewareStack;
  const operation = (context: Context) => (context.commandName ?? 'Unknown').replace(/Command$/, '');
  stack.add(
    (next: Next, context: Context) => async (args: unknown) => {
      observer.onCall(service, operation(context));
      return next(args);
    },
    { step: 'initialize', name: 'irsaCallObserver', override: true },
  );
  stack.addRelativeTo(
    (next: Next, context: Context) => async (args: unknown) => {
      const previous = context[LAST_ERROR];
      if (previous !== undefined) observer.onRetry?.(service, operation(context), String(previous));
      try {
        return await next(args);
      } catch (error) {
        const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
        context[LAST_ERROR] = e.code ?? (e.name && e.name !== 'Error' ? e.name : `HTTP ${e.$metadata?.httpStatusCode ?? '?'}`);
        throw error;
      }
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'irsaAttemptObserver', override: true },
  );
}

export function createAwsContext(options: AwsContextOptions = {}): AwsContext {
  // Only set what the user chose; everything else comes from the SDK's default chains, which also
  // read AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> themselves.
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  };
  const clients: Array<{ destroy(): void }> = [];
  const lazy = <T>(make: () => Promise<T>): (() => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => (value ??= make());
  };

  /** Every client is observed and destroyed the same way; imports stay literal so the bundle can split them. */
  const track = <C extends { destroy(): void }>(client: C, service: AwsService): C => {
    observeClient(client, service, options.observer);
    clients.push(client);
    return client;
  };
  const stsClient = lazy(async (): Promise<STSClient> => track(new (await import('@aws-sdk/client-sts')).STSClient(config), 'sts'));
  const iamClient = lazy(async (): Promise<IAMClient> => track(new (await import('@aws-sdk/client-iam')).IAMClient(config), 'iam'));
  const eksClient = lazy(async (): Promise<EKSClient> => track(new (await import('@aws-sdk/client-eks')).EKSClient(config), 'eks'));

  const region = lazy(async () => {
    if (options.region) return options.region;
    try {
      // The STS client is needed anyway (account ID); its resolved config runs the region chain.
      return await (await stsClient()).config.region();
    } catch (error) {
      throw translateAwsError(error, 'sts', 'GetCallerIdentity');
    }
  });
  const sts = lazy(async () => {
    const { createStsGateway } = await import('./sts.ts');
    return createStsGateway(await stsClient());
  });

  return {
    region,
    sts,
    eks: lazy(async () => {
      const [{ createClusterReader }, client, resolvedRegion] = await Promise.all([import('./eks.ts'), eksClient(), region()]);
      return createClusterReader(client, resolvedRegion);
    }),
    iam: lazy(async () => {
      const [{ createIamGateway }, client, stsGateway] = await Promise.all([import('./iam.ts'), iamClient(), sts()]);
      return createIamGateway(client, { accountId: () => stsGateway.callerIdentity().then((identity) => identity.account) });
    }),
    destroy: () => {
      for (const client of clients.splice(0)) client.destroy();
    },
  };
}
