// IamGateway over @aws-sdk/client-iam. Lists use the SDK's paginators, which need a real IAMClient;
// unit tests give it one that answers locally (moto lacks AddClientIDToOpenIDConnectProvider, for one).

import {
  AddClientIDToOpenIDConnectProviderCommand,
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  IAMClient,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListOpenIDConnectProvidersCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
  UpdateRoleCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListAttachedRolePolicies,
  paginateListPolicies,
  paginateListRolePolicies,
  paginateListRoleTags,
  paginateListRoles,
  type Role,
  type RoleDetail,
  type Tag,
} from '@aws-sdk/client-iam';
import { RemoteError } from '../../core/errors.ts';
import type { OidcProviderState, RoleState, Tags } from '../../core/state.ts';
import type { PolicyDocument } from '../../core/trust-policy.ts';
import type { IamGateway } from '../../ports.ts';
import { isNoSuchEntity, sendCommand } from './clients.ts';

export interface IamGatewayOptions {
  /** The caller's account (STS GetCallerIdentity); called at most once. */
  accountId: () => Promise<string>;
}

/**
 * IAM returns policy documents URL-encoded (RFC 3986). A document that already looks like JSON is
 * parsed as is, so a literal `%` in an unencoded document is never mangled.
 */
export function parsePolicyDocument(text: string, what: string): unknown {
  const json = text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new RemoteError(`IAM returned ${what} that is not JSON (${(error as Error).message}).`);
  }
}

const toTags = (tags: Tag[] | undefined): Tags => Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
const fromTags = (tags: Tags): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const policyText = (document: unknown): string => (typeof document === 'string' ? document : JSON.stringify(document));

/** Every item of an SDK paginator's pages (IAM's Marker/IsTruncated pagination). */
async function allPages<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(items(page) ?? []));
  return out;
}

/** Null for NoSuchEntity (a get of something absent), the error otherwise. */
async function orNull<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (isNoSuchEntity(error)) return null;
    throw error;
  }
}

/** The largest page IAM serves for ListRoles and GetAccountAuthorizationDetails. */
const MAX_PAGE = 1000;

/** An inline policy document as IAM returns it (URL-encoded JSON), parsed. */
const inlinePolicy = (role: string, policyName: string, document: string | undefined) =>
  parsePolicyDocument(document ?? '{}', `inline policy ${policyName} of role ${role}`);

/**
 * The one mapping from IAM's role fields to RoleState, with IAM's defaults, so that getRole and
 * listRoleDetails cannot drift apart (the plan must be identical whichever read path is taken).
 * `role` carries the fields GetRole and RoleDetail share; `session` the two only Role has.
 */
function roleState(
  fallbackName: string,
  role: Pick<RoleDetail, 'Arn' | 'RoleName' | 'Path' | 'PermissionsBoundary' | 'AssumeRolePolicyDocument' | 'Tags' | 'RoleId'>,
  session: Pick<Role, 'Description' | 'MaxSessionDuration'>,
  attachedPolicyArns: Array<string | undefined>,
  inlinePolicies: Array<readonly [string, unknown]>,
): RoleState {
  const name = role.RoleName ?? fallbackName;
  return {
    arn: role.Arn ?? '',
    name,
    path: role.Path ?? '/',
    description: session.Description ?? '',
    maxSessionDuration: session.MaxSessionDuration ?? 3600,
    permissionsBoundary: role.PermissionsBoundary?.PermissionsBoundaryArn ?? null,
    trustPolicy: parsePolicyDocument(role.AssumeRolePolicyDocument ?? '{}', `the trust policy of role ${name}`) as PolicyDocument,
    tags: toTags(role.Tags),
    attachedPolicyArns: attachedPolicyArns.filter((arn): arn is string => Boolean(arn)),
    inlinePolicies: Object.fromEntries(inlinePolicies),
    ...(role.RoleId ? { id: role.RoleId } : {}),
  };
}

/**
 * One role as getRole returns it, from a GetAccountAuthorizationDetails RoleDetail plus the
 * ListRoles entry: RoleDetail lacks Description and MaxSessionDuration, ListRoles lacks tags,
 * boundary and policies (https://docs.aws.amazon.com/IAM/latest/APIReference/API_RoleDetail.html,
 * API_ListRoles.html), so neither call alone gives the whole state.
 */
function roleFromDetail(detail: RoleDetail, listed: Role): RoleState {
  const name = detail.RoleName ?? '';
  return roleState(
    name,
    detail,
    listed,
    (detail.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn),
    (detail.RolePolicyList ?? []).map((p) => [p.PolicyName ?? '', inlinePolicy(name, p.PolicyName ?? '', p.PolicyDocument)] as const),
  );
}

export function createIamGateway(client: IAMClient, options: IamGatewayOptions): IamGateway {
  const send = <C extends { input: object }>(command: C) => sendCommand('iam', client, command);
  let account: Promise<string> | undefined;

  /** GetRole's role, or null when there is none (NoSuchEntity). */
  const readRole = async (name: string) => {
    try {
      return (await send(new GetRoleCommand({ RoleName: name }))).Role ?? null;
    } catch (error) {
      if (isNoSuchEntity(error)) return null;
      throw error;
    }
  };

  const gateway: IamGateway = {
    accountId() {
      account ??= options.accountId();
      account.catch(() => (account = undefined));
      return account;
    },

    async listOidcProviderArns() {
      const out = await send(new ListOpenIDConnectProvidersCommand({}));
      return (out.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '').filter(Boolean);
    },

    async getOidcProvider(arn): Promise<OidcProviderState | null> {
      const out = await orNull(send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })));
      if (!out) return null;
      return {
        arn,
        // IAM stores host[:port][/path]; strip a scheme in case an implementation keeps it.
        url: (out.Url ?? '').replace(/^https:\/\//, ''),
        clientIds: out.ClientIDList ?? [],
        thumbprints: out.ThumbprintList ?? [],
        tags: toTags(out.Tags),
      };
    },

    async createOidcProvider(input) {
      const out = await send(new CreateOpenIDConnectProviderCommand({
        Url: /^https:\/\//.test(input.url) ? input.url : `https://${input.url}`,
        ClientIDList: input.clientIds,
        // Optional since 2024: without thumbprints IAM fetches the top intermediate CA itself.
        ...(input.thumbprints.length > 0 ? { ThumbprintList: input.thumbprints } : {}),
        ...(Object.keys(input.tags).length > 0 ? { Tags: fromTags(input.tags) } : {}),
      }));
      return out.OpenIDConnectProviderArn ?? '';
    },

    async updateOidcProviderThumbprints(arn, thumbprints) {
      await send(new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: arn, ThumbprintList: thumbprints }));
    },

    async addOidcProviderClientId(arn, clientId) {
      await send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, ClientID: clientId }));
    },

    async deleteOidcProvider(arn) {
      await send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    },

    async getRole(name): Promise<RoleState | null> {
      // GetRole first: a missing role (every role of a fresh apply) then costs one call, not three.
      // moto and IAM are throughput-bound, so the second round costs little for existing roles.
      const r = await readRole(name);
      if (!r) return null;
      const [attached, inlineNames] = await Promise.all([
        allPages(paginateListAttachedRolePolicies({ client }, { RoleName: name }), (o) => o.AttachedPolicies),
        allPages(paginateListRolePolicies({ client }, { RoleName: name }), (o) => o.PolicyNames),
      ]);
      const inline = await Promise.all(
        inlineNames.map(async (policyName) => {
          const out = await send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }));
          return [policyName, inlinePolicy(name, policyName, out.PolicyDocument)] as const;
        }),
      );
      // GetRole returns the tags (up to 50, IAM's per-role limit): no ListRoleTags needed.
      return roleState(name, r, r, attached.map((p) => p.PolicyArn), inline);
    },

    async getRoleSettings(name) {
      const r = await readRole(name);
      if (!r) return null;
      const { attachedPolicyArns: _attached, inlinePolicies: _inline, ...settings } = roleState(name, r, r, [], []);
      return settings;
    },

    async listRoles(pathPrefix) {
      const roles = await allPages(paginateListRoles({ client }, pathPrefix ? { PathPrefix: pathPrefix } : {}), (o) => o.Roles);
      return roles.map((r) => ({ name: r.RoleName ?? '', arn: r.Arn ?? '' }));
    },

    async listRoleDetails(pathPrefix) {
      // GetAccountAuthorizationDetails has no path filter: the prefix is applied here, with
      // ListRoles' PathPrefix semantics (a plain string prefix of the role's path).
      const [all, listed] = await Promise.all([
        allPages(paginateGetAccountAuthorizationDetails({ client, pageSize: MAX_PAGE }, { Filter: ['Role'] }), (o) => o.RoleDetailList),
        allPages(paginateListRoles({ client, pageSize: MAX_PAGE }, pathPrefix ? { PathPrefix: pathPrefix } : {}), (o) => o.Roles),
      ]);
      const byId = new Map(listed.map((role) => [role.RoleId ?? role.RoleName ?? '', role]));
      const wanted = all.filter((detail) => !pathPrefix || (detail.Path ?? '/').startsWith(pathPrefix));
      const roles = await Promise.all(
        wanted.map(async (detail): Promise<RoleState | null> => {
          const listedRole = byId.get(detail.RoleId ?? detail.RoleName ?? '');
          // The two calls are separate snapshots: a role created between them is read singly.
          if (listedRole && listedRole.RoleName === detail.RoleName) return roleFromDetail(detail, listedRole);
          return gateway.getRole(detail.RoleName ?? '');
        }),
      );
      return roles.filter((role): role is RoleState => role !== null);
    },

    async listRoleTags(name) {
      const tags = await allPages(paginateListRoleTags({ client }, { RoleName: name }), (o) => o.Tags);
      return toTags(tags);
    },

    async createRole(input) {
      const out = await send(new CreateRoleCommand({
        RoleName: input.name,
        Path: input.path,
        AssumeRolePolicyDocument: JSON.stringify(input.trustPolicy),
        MaxSessionDuration: input.maxSessionDuration,
        ...(input.description ? { Description: input.description } : {}),
        ...(input.permissionsBoundary ? { PermissionsBoundary: input.permissionsBoundary } : {}),
        ...(Object.keys(input.tags).length > 0 ? { Tags: fromTags(input.tags) } : {}),
      }));
      return out.Role?.Arn ?? '';
    },

    async updateRole(name, input) {
      await send(new UpdateRoleCommand({ RoleName: name, Description: input.description, MaxSessionDuration: input.maxSessionDuration }));
    },

    async updateTrustPolicy(name, document) {
      await send(new UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: JSON.stringify(document) }));
    },

    async putPermissionsBoundary(name, arn) {
      await send(new PutRolePermissionsBoundaryCommand({ RoleName: name, PermissionsBoundary: arn }));
    },

    async deletePermissionsBoundary(name) {
      await send(new DeleteRolePermissionsBoundaryCommand({ RoleName: name }));
    },

    async tagRole(name, tags) {
      await send(new TagRoleCommand({ RoleName: name, Tags: fromTags(tags) }));
    },

    async untagRole(name, keys) {
      await send(new UntagRoleCommand({ RoleName: name, TagKeys: keys }));
    },

    async attachPolicy(roleName, policyArn) {
      await send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
    },

    async detachPolicy(roleName, policyArn) {
      await send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
    },

    async putInlinePolicy(roleName, policyName, document) {
      await send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: policyText(document) }));
    },

    async deleteInlinePolicy(roleName, policyName) {
      await send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }));
    },

    async deleteRole(name) {
      await send(new DeleteRoleCommand({ RoleName: name }));
    },

    async getPolicy(arn) {
      const out = await orNull(send(new GetPolicyCommand({ PolicyArn: arn })));
      if (!out?.Policy) return null;
      return { arn: out.Policy.Arn ?? arn, name: out.Policy.PolicyName ?? '' };
    },

    async getPolicyDocument(arn) {
      const policy = await orNull(send(new GetPolicyCommand({ PolicyArn: arn })));
      const version = policy?.Policy?.DefaultVersionId;
      if (!version) return null;
      const out = await send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: version }));
      const text = out.PolicyVersion?.Document;
      // IAM returns policy documents URL-encoded.
      return text ? JSON.parse(decodeURIComponent(text)) : null;
    },

    async listPolicies(scope) {
      const policies = await allPages(paginateListPolicies({ client, pageSize: MAX_PAGE }, { Scope: scope }), (o) => o.Policies);
      return policies.map((p) => ({ arn: p.Arn ?? '', name: p.PolicyName ?? '' }));
    },
  };
  return gateway;
}
