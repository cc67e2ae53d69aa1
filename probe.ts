import { IAMClient, CreateRoleCommand, GetAccountAuthorizationDetailsCommand, ListRolesCommand, ListRoleTagsCommand } from '@aws-sdk/client-iam';
import pMap from 'p-map';
const iam = new IAMClient({ endpoint: 'http://127.0.0.1:5055', region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
await fetch('http://127.0.0.1:5055/moto-api/reset', { method: 'POST' });
const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
let t = performance.now();
await pMap(Array.from({ length: 1100 }, (_, i) => i), (i) => iam.send(new CreateRoleCommand({ RoleName: `unrelated-${i}`, AssumeRolePolicyDocument: trust, Tags: [{ Key: 'team', Value: 'x' }] })), { concurrency: 16 });
console.log('seed', performance.now() - t);
for (let k = 0; k < 3; k++) {
t = performance.now(); const g = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], MaxItems: 1000 })); console.log('gaad', g.RoleDetailList?.length, g.IsTruncated, performance.now() - t);
t = performance.now(); const l = await iam.send(new ListRolesCommand({ MaxItems: 1000 })); console.log('listroles', l.Roles?.length, l.IsTruncated, performance.now() - t);
}
t = performance.now(); await iam.send(new ListRoleTagsCommand({ RoleName: 'unrelated-1' })); console.log('tags', performance.now() - t);
