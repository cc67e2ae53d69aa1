// Builds the AWS clients irsa uses — lazily, each SDK package imported on first use — with the
// SDK's own region/credential chain (profiles and SSO included), adaptive retries, and
// instrumentation through public SDK routes (a named middleware of our own in the initialize step,
// a wrapped retry strategy) that reports every call and retry to the CallObserver. Also the one place AWS errors
// become irsa's error classes; the SDK error stays reachable as `cause` because the engine decides
// on its name (NoSuchEntity, MalformedPolicyDocument, EntityAlreadyExists, Throttling…).

import type { EKSClient } from '@aws-sdk/client-eks';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { HttpHandlerUserInput } from '@smithy/core/protocols';
import { AdaptiveRetryStrategy } from '@smithy/core/retry';
import type { HandlerExecutionContext, InitializeMiddleware, MetadataBearer, MiddlewareStack, RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { RemoteError, UserError } from '../../core/errors.ts';
import type { CallObserver, ClusterReader, IamGateway, NodeAccessReader, NodegroupGateway, PodIdentityGateway, ResourcePolicyGateway, StsGateway } from '../../ports.ts';

export type AwsService = 'iam' | 'eks' | 'sts' | 'secretsmanager' | 'kms' | 'organizations' | 'ec2';

export interface AwsContextOptions {
  region?: string;
  profile?: string;
  observer?: CallObserver;
  /** Attempts per call, first one included (throttling, 5xx and network errors are retried). */
  maxAttempts?: number;
  /** One endpoint for all three services (tests; users set AWS_ENDPOINT_URL[_<SERVICE>]). */
  endpoint?: string;
  /** The SDK's HTTP handler (unit tests answer requests without a network). */
  requestHandler?: HttpHandlerUserInput;
  /** How the user gave `profile`, for messages: --profile, --cluster-profile, cluster.profile … */
  profileField?: string;
  /** --debug: the SDK's own warnings (e.g. "Multiple credential sources detected") go to stderr. */
  debug?: boolean;
}

export interface AwsContext {
  /** The region from --region, else the SDK's chain (AWS_REGION, the profile's region). */
  region(): Promise<string>;
  eks(): Promise<ClusterReader>;
  /** EKS Pod Identity associations, add-ons, Fargate profiles and nodegroups (same EKS client). */
  podIdentity(): Promise<PodIdentityGateway>;
  iam(): Promise<IamGateway>;
  sts(): Promise<StsGateway>;
  /** Nodegroups, launch templates and policy documents ("only its role?", src/adapters/aws/ec2.ts). */
  nodeAccess(): Promise<NodeAccessReader>;
  /** Launch template versions and nodegroup updates (irsa close-paths, src/adapters/aws/ec2.ts). */
  nodegroups(): Promise<NodegroupGateway>;
  /** Secrets Manager, KMS and Organizations of this context's account (access requests, doctor --can). */
  resourcePolicies(): Promise<ResourcePolicyGateway>;
  /** Closes the clients' sockets (tests; the CLI just exits). */
  destroy(): void;
}

const DEFAULT_MAX_ATTEMPTS = 8;

/** The output type of an SDK command, read off its handler (so callers need no casts). */
export type CommandOutput<C> = C extends { resolveMiddleware(...args: never[]): (...args: never[]) => Promise<{ output: infer O }> } ? O : never;

/** What an adapter needs from an SDK client; tests pass a fake with the same shape. */
export interface CommandSender {
  send(command: never): Promise<unknown>;
}

/**
 * Sends `command`. Failures arrive already translated by the client's instrumentation
 * (`instrumentClient`, which knows the operation); anything else is translated here.
 */
export async function sendCommand<C extends { input: object }>(service: AwsService, client: CommandSender, command: C): Promise<CommandOutput<C>> {
  try {
    return (await client.send(command as never)) as CommandOutput<C>;
  } catch (error) {
    throw translateAwsError(error, service, 'request');
  }
}

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

/** The SDK client surface irsa instruments: its public middleware stack. */
type InstrumentableClient = { middlewareStack: Pick<MiddlewareStack<object, MetadataBearer>, 'add'> };

/** The operation a call is for, visible to the retry strategy (which the SDK does not tell). */
const currentOperation = new AsyncLocalStorage<string>();

/** "GetRoleCommand" → "GetRole", from the SDK's public handler-execution context. */
const operationOf = (context: HandlerExecutionContext): string => (context.commandName ?? 'Unknown').replace(/Command$/, '');

/**
 * One middleware on every client, through the public `middlewareStack.add` in the initialize step
 * — the step that runs once per call, before the retry loop of the finalizeRequest step
 * (https://aws.amazon.com/blogs/developer/middleware-stack-modular-aws-sdk-js/). It reports the
 * call, makes its operation name known to the retry strategy below, and turns a failure into
 * irsa's error classes naming `service:Operation`. Only names are reported, never payloads.
 */
export function instrumentClient(client: InstrumentableClient, service: AwsService, observer?: CallObserver): void {
  const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const operation = operationOf(context);
    observer?.onCall(service, operation);
    try {
      return await currentOperation.run(operation, () => next(args));
    } catch (error) {
      throw translateAwsError(error, service, operation);
    }
  };
  client.middlewareStack.add(middleware, { step: 'initialize', priority: 'high', name: 'irsaObserver', override: true });
}

/** Why an attempt failed, as reported to onRetry: the SDK error's code or name, else the HTTP status. */
function retryReason(error: unknown): string {
  const e = (error ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return e.code ?? (e.name && e.name !== 'Error' ? e.name : `HTTP ${e.$metadata?.httpStatusCode ?? '?'}`);
}

/**
 * The SDK's adaptive retry strategy (exponential backoff plus client-side rate limiting: useful
 * when many roles are planned concurrently against IAM's low request rate), passed through the
 * client's documented `retryStrategy` option and wrapped to report each retry: the strategy
 * granting a retry token is the SDK deciding to send the call again, and the error it was given
 * is the reason (the `retryStrategy` client option: https://www.npmjs.com/package/@smithy/util-retry, whose
 * strategies @smithy/core/retry now ships).
 */
export function observedRetryStrategy(service: AwsService, maxAttempts: number, observer?: CallObserver): RetryStrategyV2 & { mode: string } {
  const inner = new AdaptiveRetryStrategy(maxAttempts);
  return {
    mode: inner.mode,
    acquireInitialRetryToken: (scope: string) => inner.acquireInitialRetryToken(scope),
    async refreshRetryTokenForRetry(token: StandardRetryToken, errorInfo: RetryErrorInfo) {
      const renewed = await inner.refreshRetryTokenForRetry(token, errorInfo);
      observer?.onRetry?.(service, currentOperation.getStore() ?? 'Unknown', retryReason(errorInfo.error));
      return renewed;
    },
    recordSuccess: (token: StandardRetryToken) => inner.recordSuccess(token),
  };
}

/**
 * The SDK's logger for irsa: its warnings are noise for irsa's users (the SDK prints a 9-line
 * "Multiple credential sources detected" when AWS_PROFILE and static keys are both set) and go to
 * stderr only with --debug. The SDK uses console.warn unless a logger other than its NoOpLogger
 * is configured (@aws-sdk/credential-provider-node defaultProvider).
 */
export function sdkLogger(debug: boolean, write: (line: string) => void = (line) => process.stderr.write(line + '\n')) {
  const log = (level: string) => (...args: unknown[]) => {
    if (debug) write(`[aws-sdk ${level}] ${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}`);
  };
  return { trace: () => {}, debug: () => {}, info: () => {}, warn: log('warn'), error: log('error') };
}

/**
 * A named profile (--profile, AWS_PROFILE, an irsa.yaml profile) must be in the AWS config or
 * credentials file: checked with the SDK's own shared-ini loader before the first call, so the
 * answer is "profile nope is not in your AWS config" instead of the credential chain's failure.
 */
export async function assertProfileExists(profile: string, field: string): Promise<void> {
  const { loadSharedConfigFiles } = await import('@smithy/core/config');
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ignoreCache: true });
  if (profile in configFile || profile in credentialsFile) return;
  const known = [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)])].filter((name) => !name.includes(' ')).sort();
  const files = `${process.env['AWS_CONFIG_FILE'] ?? '~/.aws/config'} and ${process.env['AWS_SHARED_CREDENTIALS_FILE'] ?? '~/.aws/credentials'}`;
  throw new UserError(
    `${field}: profile ${profile} is not in your AWS config (${files}). ${known.length > 0 ? `Profiles there: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}.` : 'Those files define no profile.'} Give one of them, or create it with aws configure --profile ${profile}.`,
    field,
  );
}

export function createAwsContext(options: AwsContextOptions = {}): AwsContext {
  // Only set what the user chose; everything else comes from the SDK's default chains, which also
  // read AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> themselves.
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.requestHandler ? { requestHandler: options.requestHandler } : {}),
    logger: sdkLogger(options.debug === true),
    maxAttempts,
  };
  // The profile is checked once, before the first client is made (so before any call).
  const envProfile = process.env['AWS_PROFILE'];
  const profileChecked = (() => {
    let checked: Promise<void> | undefined;
    return () =>
      (checked ??= options.profile
        ? assertProfileExists(options.profile, options.profileField ?? '--profile')
        : envProfile
          ? assertProfileExists(envProfile, 'AWS_PROFILE')
          : Promise.resolve());
  })();
  const clients: Array<{ destroy(): void }> = [];
  const lazy = <T>(make: () => Promise<T>): (() => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => (value ??= make());
  };

  /** Every client is observed and destroyed the same way; imports stay literal so the bundle can split them. */
  const track = <C extends InstrumentableClient & { destroy(): void }>(client: C, service: AwsService): C => {
    instrumentClient(client, service, options.observer);
    clients.push(client);
    return client;
  };
  const stsClient = lazy(async (): Promise<STSClient> => (await profileChecked(), track(new (await import('@aws-sdk/client-sts')).STSClient({ ...config, retryStrategy: observedRetryStrategy('sts', maxAttempts, options.observer) }), 'sts')));
  const iamClient = lazy(async (): Promise<IAMClient> => (await profileChecked(), track(new (await import('@aws-sdk/client-iam')).IAMClient({ ...config, retryStrategy: observedRetryStrategy('iam', maxAttempts, options.observer) }), 'iam')));
  const eksClient = lazy(async (): Promise<EKSClient> => (await profileChecked(), track(new (await import('@aws-sdk/client-eks')).EKSClient({ ...config, retryStrategy: observedRetryStrategy('eks', maxAttempts, options.observer) }), 'eks')));

  const ec2Client = lazy(async () => (await profileChecked(), track(new (await import('@aws-sdk/client-ec2')).EC2Client({ ...config, retryStrategy: observedRetryStrategy('ec2', maxAttempts, options.observer) }), 'ec2')));

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
    podIdentity: lazy(async () => {
      const [{ createPodIdentityGateway }, client] = await Promise.all([import('./eks.ts'), eksClient()]);
      return createPodIdentityGateway(client);
    }),
    iam: lazy(async () => {
      const [{ createIamGateway }, client, stsGateway] = await Promise.all([import('./iam.ts'), iamClient(), sts()]);
      return createIamGateway(client, { accountId: () => stsGateway.callerIdentity().then((identity) => identity.account) });
    }),
    nodeAccess: lazy(async () => {
      const [{ createNodeAccessReader }, ec2, eks, iam] = await Promise.all([import('./ec2.ts'), ec2Client(), eksClient(), iamClient()]);
      return createNodeAccessReader({ ec2, eks, iam });
    }),
    nodegroups: lazy(async () => {
      const [{ createNodegroupGateway }, ec2, eks] = await Promise.all([import('./ec2.ts'), ec2Client(), eksClient()]);
      return createNodegroupGateway({ ec2, eks });
    }),
    resourcePolicies: lazy(async () => {
      const { createResourcePolicyGateway } = await import('./resource-policies.ts');
      const stsGateway = await sts();
      return createResourcePolicyGateway(
        {
          secrets: lazy(async () => track(new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({ ...config, retryStrategy: observedRetryStrategy('secretsmanager', maxAttempts, options.observer) }), 'secretsmanager')),
          kms: lazy(async () => track(new (await import('@aws-sdk/client-kms')).KMSClient({ ...config, retryStrategy: observedRetryStrategy('kms', maxAttempts, options.observer) }), 'kms')),
          // Organizations has one endpoint (us-east-1 in the aws partition); the SDK resolves it.
          organizations: lazy(async () => track(new (await import('@aws-sdk/client-organizations')).OrganizationsClient({ ...config, retryStrategy: observedRetryStrategy('organizations', maxAttempts, options.observer) }), 'organizations')),
        },
        () => stsGateway.callerIdentity().then((identity) => identity.account),
      );
    }),
    destroy: () => {
      for (const client of clients.splice(0)) client.destroy();
    },
  };
}
