// Checks deploy/aws/multinode.yaml (docs/ecs.md):
//  1. against the CloudFormation resource specification (npm @aws-cdk/cfnspec):
//     every resource type exists, every required property is there, no
//     unknown property (recursively, through the property types), lists are
//     lists and structures are maps, every Ref, GetAtt, ${} of Sub, If
//     condition and DependsOn resolves;
//  2. the daemon's task role grants exactly the ECS, ECR and CloudWatch Logs
//     actions of the ECS provider's list of calls (plugins/ecs/calls.c), and
//     so does docs/ecs-iam-policy.json; every mn_ecs_call in plugins/ecs/
//     names a listed action and every listed action is called; iam:PassRole
//     only for the worker roles; the cluster-bound actions are bound to the
//     template's cluster.
// Then it breaks copies of the template and of the list (a required property
// removed, an unknown one added, a dangling Ref, an unknown attribute, an
// extra or a missing action, ...) and requires each to be caught.
//
// usage: node check_aws.js SOURCE_DIR NODE_MODULES_DIR [OUT_CONFIG]
// (OUT_CONFIG: the daemon's configuration of the task definition, rendered)
'use strict';
const fs = require('fs');
const path = require('path');

const [srcDir, modulesDir] = process.argv.slice(2);
if (!srcDir || !modulesDir) {
  console.error('usage: node check_aws.js SOURCE_DIR NODE_MODULES_DIR');
  process.exit(2);
}
const YAML = require(path.join(modulesDir, 'yaml'));
const spec = require(path.join(modulesDir, '@aws-cdk/cfnspec')).specification();

// -- reading the template: CloudFormation's short-form tags ----------------
const FN = { Ref: 'Ref', Condition: 'Condition' };
for (const f of ['Sub', 'GetAtt', 'Join', 'Select', 'Split', 'If', 'Equals', 'Not', 'And', 'Or',
  'FindInMap', 'Base64', 'GetAZs', 'ImportValue', 'Cidr'])
  FN[f] = `Fn::${f}`;
const customTags = [];
for (const [tag, key] of Object.entries(FN)) {
  for (const collection of [undefined, 'seq', 'map']) {
    const t = {
      tag: `!${tag}`,
      resolve: (v) => {
        let value = v && typeof v.toJSON === 'function' ? v.toJSON() : v;
        if (tag === 'GetAtt' && typeof value === 'string') {
          const dot = value.indexOf('.');
          value = [value.slice(0, dot), value.slice(dot + 1)];
        }
        return { [key]: value };
      },
    };
    if (collection) t.collection = collection;
    customTags.push(t);
  }
}
function loadTemplate(text) {
  const doc = YAML.parseDocument(text, { customTags });
  if (doc.errors.length) throw new Error(doc.errors.map(String).join('\n'));
  return doc.toJS();
}

// -- 1. the resource specification -----------------------------------------
const PSEUDO = new Set(['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition',
  'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix']);

function intrinsicName(v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return keys[0];
  }
  return null;
}

function checkTemplate(t) {
  const problems = [];
  const params = t.Parameters || {};
  const resources = t.Resources || {};
  const conditions = t.Conditions || {};
  if (!Object.keys(resources).length) problems.push('no Resources');
  const attrsOf = (logical) => {
    const r = resources[logical];
    const rt = r && spec.ResourceTypes[r.Type];
    return rt ? Object.keys(rt.Attributes || {}) : [];
  };
  const refOk = (name) => PSEUDO.has(name) || name in params || name in resources;
  const getAttOk = (where, logical, attr) => {
    if (!(logical in resources)) problems.push(`${where}: GetAtt ${logical}.${attr}: no resource ${logical}`);
    else if (!attrsOf(logical).includes(attr))
      problems.push(`${where}: GetAtt ${logical}.${attr}: ${resources[logical].Type} has no attribute ${attr}`);
  };

  // Every intrinsic function anywhere in the template must resolve.
  function walkIntrinsics(v, where) {
    if (Array.isArray(v)) return v.forEach((x, i) => walkIntrinsics(x, `${where}[${i}]`));
    if (!v || typeof v !== 'object') return;
    const fn = intrinsicName(v);
    if (fn === 'Ref') {
      if (typeof v.Ref !== 'string' || !refOk(v.Ref)) problems.push(`${where}: Ref ${JSON.stringify(v.Ref)} resolves to nothing`);
      return;
    }
    if (fn === 'Fn::GetAtt') {
      const a = v['Fn::GetAtt'];
      if (!Array.isArray(a) || a.length !== 2) problems.push(`${where}: GetAtt needs [resource, attribute]`);
      else getAttOk(where, a[0], a[1]);
      return;
    }
    if (fn === 'Fn::Sub') {
      const a = v['Fn::Sub'];
      const [text, vars] = Array.isArray(a) ? a : [a, {}];
      if (typeof text !== 'string') { problems.push(`${where}: Sub needs a string`); return; }
      for (const m of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
        const name = m[1].trim();
        if (vars && name in vars) continue;
        const dot = name.indexOf('.');
        if (dot > 0 && !PSEUDO.has(name)) getAttOk(where, name.slice(0, dot), name.slice(dot + 1));
        else if (!refOk(name)) problems.push(`${where}: Sub \${${name}} resolves to nothing`);
      }
      if (vars) walkIntrinsics(vars, `${where}.Sub`);
      return;
    }
    if (fn === 'Fn::If') {
      const a = v['Fn::If'];
      if (!Array.isArray(a) || a.length !== 3) problems.push(`${where}: If needs [condition, then, else]`);
      else {
        if (!(a[0] in conditions)) problems.push(`${where}: If: no condition ${a[0]}`);
        walkIntrinsics(a.slice(1), where);
      }
      return;
    }
    for (const [k, x] of Object.entries(v)) walkIntrinsics(x, `${where}.${k}`);
  }

  // Properties against the specification, through the property types.
  function checkValue(where, propSpec, value, resourceType) {
    if (intrinsicName(value)) return; // resolved at deploy time
    const isList = propSpec.Type === 'List';
    const isMap = propSpec.Type === 'Map';
    if (isList || isMap) {
      if (isList && !Array.isArray(value)) return problems.push(`${where}: a list is expected`);
      if (isMap && (typeof value !== 'object' || Array.isArray(value)))
        return problems.push(`${where}: a map is expected`);
      const items = isList ? value : Object.values(value);
      items.forEach((item, i) => {
        const itemSpec = propSpec.ItemType ? { Type: propSpec.ItemType } : { PrimitiveType: propSpec.PrimitiveItemType };
        checkValue(`${where}[${i}]`, itemSpec, item, resourceType);
      });
      return;
    }
    if (propSpec.PrimitiveType) {
      const p = propSpec.PrimitiveType;
      const ok = p === 'Json' ? typeof value === 'object'
        : p === 'Boolean' ? typeof value === 'boolean' || value === 'true' || value === 'false'
          : p === 'Integer' || p === 'Long' ? Number.isInteger(Number(value)) && typeof value !== 'object'
            : p === 'Double' ? !Number.isNaN(Number(value)) && typeof value !== 'object'
              : typeof value !== 'object';
      if (!ok) problems.push(`${where}: ${JSON.stringify(value)} is not a ${p}`);
      return;
    }
    const typeName = propSpec.Type === 'Tag' ? 'Tag' : `${resourceType}.${propSpec.Type}`;
    const ts = spec.PropertyTypes[typeName];
    if (!ts) return problems.push(`${where}: no property type ${typeName} in the specification`);
    if (ts.PrimitiveType) return checkValue(where, ts, value, resourceType);
    checkProperties(where, ts.Properties || {}, value, resourceType);
  }
  function checkProperties(where, props, value, resourceType) {
    if (!value || typeof value !== 'object' || Array.isArray(value))
      return problems.push(`${where}: a map of properties is expected`);
    for (const [name, ps] of Object.entries(props))
      if (ps.Required && !(name in value)) problems.push(`${where}: required property ${name} is missing`);
    for (const [name, v] of Object.entries(value)) {
      if (!(name in props)) problems.push(`${where}: unknown property ${name}`);
      else checkValue(`${where}.${name}`, props[name], v, resourceType);
    }
  }

  for (const [name, r] of Object.entries(resources)) {
    const rt = spec.ResourceTypes[r.Type];
    if (!rt) { problems.push(`Resources.${name}: unknown resource type ${r.Type}`); continue; }
    checkProperties(`Resources.${name}.Properties`, rt.Properties || {}, r.Properties || {}, r.Type);
    for (const d of [].concat(r.DependsOn || []))
      if (!(d in resources)) problems.push(`Resources.${name}: DependsOn ${d}: no such resource`);
    walkIntrinsics(r.Properties || {}, `Resources.${name}.Properties`);
  }
  walkIntrinsics(t.Outputs || {}, 'Outputs');
  walkIntrinsics(conditions, 'Conditions');
  return problems;
}

// -- 2. the IAM policy against the provider's calls ---------------------------
function readCalls(callsC) {
  const body = /BEGIN CALLS \*\/([\s\S]*?)\/\* END CALLS/.exec(callsC);
  if (!body) throw new Error('plugins/ecs/calls.c: no BEGIN CALLS ... END CALLS table');
  const text = body[1].replace(/\/\*[\s\S]*?\*\//g, ' ');
  const entry = /\{\s*(MN_ECS_SVC_[A-Z]+),\s*"([A-Za-z]+)",\s*((?:"[^"]*"\s*)+)\},/g;
  const calls = [...text.matchAll(entry)].map((m) => ({
    service: m[1], action: m[2],
    iam: m[3].replace(/"\s*"/g, '').replace(/"/g, '').trim().split(/\s+/),
  }));
  const rest = text.replace(entry, '').trim();
  if (rest) throw new Error(`plugins/ecs/calls.c: cannot read ${JSON.stringify(rest)}`);
  return calls;
}

function callsInSources(sources) {
  const used = [];
  for (const [file, text] of Object.entries(sources))
    for (const m of text.matchAll(/mn_ecs_call\(\s*\w+,\s*(MN_ECS_SVC_[A-Z]+),\s*"([A-Za-z]+)"/g))
      used.push({ file, service: m[1], action: m[2] });
  return used;
}

const asList = (x) => [].concat(x === undefined ? [] : x);

function checkCallsAgainstSources(calls, sources) {
  const problems = [];
  const used = callsInSources(sources);
  if (!used.length) problems.push('plugins/ecs: no mn_ecs_call found');
  for (const u of used)
    if (!calls.some((c) => c.service === u.service && c.action === u.action))
      problems.push(`${u.file}: calls ${u.action} (${u.service}), which calls.c does not list`);
  for (const c of calls)
    if (!used.some((u) => c.service === u.service && c.action === u.action))
      problems.push(`calls.c lists ${c.action}, which no file of plugins/ecs calls`);
  return problems;
}

function checkPolicy(where, statements, calls, roles) {
  const problems = [];
  const wanted = new Set(calls.flatMap((c) => c.iam));
  const granted = new Set();
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue;
    for (const a of asList(s.Action)) {
      if (a.includes('*')) problems.push(`${where}: wildcard action ${a}`);
      if (/^(ecs|ecr|logs):/.test(a)) granted.add(a);
      else if (a === 'iam:PassRole') {
        const res = asList(s.Resource).map((r) => JSON.stringify(r));
        const bad = res.filter((r) => !roles.some((ok) => r.includes(ok)));
        if (!res.length || bad.length) problems.push(`${where}: iam:PassRole on ${bad.join(', ') || 'nothing'}: only the worker roles`);
        if (s.Condition?.StringEquals?.['iam:PassedToService'] !== 'ecs-tasks.amazonaws.com')
          problems.push(`${where}: iam:PassRole without iam:PassedToService ecs-tasks.amazonaws.com`);
      } else problems.push(`${where}: ${a} is not an action of the ECS provider`);
    }
  }
  for (const a of wanted) if (!granted.has(a)) problems.push(`${where}: ${a} is called by the provider but not granted`);
  for (const a of granted) if (!wanted.has(a)) problems.push(`${where}: ${a} is granted but the provider never needs it`);
  // bound to the cluster: RunTask and ListTasks by condition, the task actions by resource
  const byAction = (a) => statements.filter((s) => asList(s.Action).includes(a));
  for (const a of ['ecs:RunTask', 'ecs:ListTasks'])
    for (const s of byAction(a))
      if (!s.Condition?.ArnEquals?.['ecs:cluster']) problems.push(`${where}: ${a} is not bound to the cluster (ecs:cluster)`);
  for (const a of ['ecs:DescribeTasks', 'ecs:StopTask'])
    for (const s of byAction(a))
      if (!asList(s.Resource).every((r) => /:task\/(\$\{Cluster\}|CLUSTER)\/\*/.test(JSON.stringify(r))))
        problems.push(`${where}: ${a} reaches tasks outside the cluster`);
  for (const s of byAction('logs:GetLogEvents'))
    if (!asList(s.Resource).every((r) => /log-group:(\$\{WorkerLogGroup\}|\/multinode\/workers):log-stream:\*/.test(JSON.stringify(r))))
      problems.push(`${where}: logs:GetLogEvents beyond the worker log group`);
  return problems;
}

function daemonStatements(t) {
  const role = t.Resources?.DaemonTaskRole;
  return (role?.Properties?.Policies || []).flatMap((p) => p.PolicyDocument?.Statement || []);
}

function checkAll(t, calls, docPolicy, sources) {
  return [
    ...checkTemplate(t),
    ...checkCallsAgainstSources(calls, sources),
    ...checkPolicy('DaemonTaskRole', daemonStatements(t), calls, ['WorkerExecutionRole', 'WorkerTaskRole']),
    ...checkPolicy('docs/ecs-iam-policy.json', docPolicy.Statement, calls,
      ['role/multinode-task-execution', 'role/multinode-worker']),
  ];
}

// -- the daemon's configuration, rendered with sample values ------------------
// (check_aws.sh runs `multinoded --check-config` on it). Every ${} of the
// Sub needs a sample here, so a new one cannot slip by unchecked.
const SAMPLES = {
  'AWS::Region': 'eu-west-2',
  ApiDomainName: 'multinode.example.com',
  Cluster: 'multinode',
  Subnets: 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
  WorkerSecurityGroup: 'sg-0123456789abcdef0',
  PublicIp: 'true',
  'WorkerExecutionRole.Arn': 'arn:aws:iam::123456789012:role/multinode-WorkerExecutionRole-1A2B3C',
  'WorkerTaskRole.Arn': 'arn:aws:iam::123456789012:role/multinode-WorkerTaskRole-4D5E6F',
  WorkerLogGroup: '/multinode/workers',
  'FunctionRepository.RepositoryUri': '123456789012.dkr.ecr.eu-west-2.amazonaws.com/multinode-functions',
};
function renderDaemonConfig(t) {
  const c = t.Resources.DaemonTaskDefinition.Properties.ContainerDefinitions[0];
  const v = c.Environment.find((e) => e.Name === 'MULTINODE_CONFIG_YAML');
  if (!v) throw new Error('DaemonTaskDefinition: no MULTINODE_CONFIG_YAML');
  const sub = v.Value['Fn::Sub'];
  const text = Array.isArray(sub) ? sub[0] : sub;
  return text.replace(/\$\{([^}]+)\}/g, (_, name) => {
    if (!(name in SAMPLES)) throw new Error(`MULTINODE_CONFIG_YAML: no sample value for \${${name}}`);
    return SAMPLES[name];
  });
}

// -- run ---------------------------------------------------------------------
const read = (p) => fs.readFileSync(path.join(srcDir, p), 'utf8');
const templateText = read('deploy/aws/multinode.yaml');
const callsText = read('plugins/ecs/calls.c');
const docPolicy = JSON.parse(read('docs/ecs-iam-policy.json'));
const sources = {};
for (const f of fs.readdirSync(path.join(srcDir, 'plugins/ecs')))
  if (f.endsWith('.c') && f !== 'calls.c') sources[`plugins/ecs/${f}`] = read(`plugins/ecs/${f}`);

const template = loadTemplate(templateText);
const calls = readCalls(callsText);
const problems = checkAll(template, calls, docPolicy, sources);
if (problems.length) {
  console.error(`deploy/aws/multinode.yaml: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`ok: ${Object.keys(template.Resources).length} resources valid against the CloudFormation ` +
  `specification ${spec.ResourceSpecificationVersion}; the daemon's policy grants exactly the ` +
  `${new Set(calls.flatMap((c) => c.iam)).size} actions of the ${calls.length} calls of plugins/ecs/calls.c`);

// Each breakage must be caught with the expected message.
const clone = (x) => JSON.parse(JSON.stringify(x));
const breakages = [
  ['a missing required property', /Service\.Properties\.LoadBalancers\[0\]: required property ContainerPort/,
    (t) => { delete t.Resources.DaemonService.Properties.LoadBalancers[0].ContainerPort; }],
  ['an unknown property', /DaemonTargetGroup\.Properties: unknown property HealthPath/,
    (t) => { t.Resources.DaemonTargetGroup.Properties.HealthPath = '/readyz'; }],
  ['an unknown nested property', /AwsvpcConfiguration: unknown property PublicIp/,
    (t) => { t.Resources.DaemonService.Properties.NetworkConfiguration.AwsvpcConfiguration.PublicIp = 'ENABLED'; }],
  ['an unknown resource type', /unknown resource type AWS::ECS::Servise/,
    (t) => { t.Resources.DaemonService.Type = 'AWS::ECS::Servise'; }],
  ['a dangling Ref', /Ref "Clusterr" resolves to nothing/,
    (t) => { t.Resources.DaemonService.Properties.Cluster = { Ref: 'Clusterr' }; }],
  ['an unknown GetAtt attribute', /GetAtt Cluster\.Name: AWS::ECS::Cluster has no attribute Name/,
    (t) => { t.Outputs.ClusterName.Value = { 'Fn::GetAtt': ['Cluster', 'Name'] }; }],
  ['a dangling ${} in Sub', /Sub \$\{WorkerLogGroupp\} resolves to nothing/,
    (t) => { t.Outputs.ApiUrl.Value = { 'Fn::Sub': 'x${WorkerLogGroupp}' }; }],
  ['a scalar for a list', /Subnets: a list is expected/,
    (t) => { t.Resources.LoadBalancer.Properties.Subnets = 'subnet-1'; }],
  ['an action the provider never calls', /ecs:DeregisterTaskDefinition is granted but the provider never needs it/,
    (t) => { daemonStatements(t)[0].Action = ['ecs:RegisterTaskDefinition', 'ecs:DeregisterTaskDefinition']; }],
  ['a call left out of the policy', /logs:GetLogEvents is called by the provider but not granted/,
    (t) => { const s = daemonStatements(t).find((x) => x.Sid === 'ReadWorkerLogs'); s.Action = 'ecs:ListTasks'; }],
  ['PassRole beyond the worker roles', /iam:PassRole on .*DaemonTaskRole.*only the worker roles/,
    (t) => { const s = daemonStatements(t).find((x) => x.Sid === 'HandTheWorkerRolesToTasks'); s.Resource.push({ 'Fn::GetAtt': ['DaemonTaskRole', 'Arn'] }); }],
  ['RunTask outside the cluster', /ecs:RunTask is not bound to the cluster/,
    (t) => { delete daemonStatements(t).find((x) => x.Sid === 'RunWorkersInTheCluster').Condition; }],
];
let caught = 0;
for (const [what, expected, mutate] of breakages) {
  const t = clone(template);
  mutate(t);
  const found = checkAll(t, calls, docPolicy, sources);
  if (!found.some((p) => expected.test(p))) {
    console.error(`not caught: ${what} (expected ${expected}); found:\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
  caught++;
}
// The list of calls drifting from the code is caught as well.
const callBreakages = [
  [/plugins\/ecs\/logs\.c: calls GetLogEvents .*which calls\.c does not list/, (c) => c.filter((x) => x.action !== 'GetLogEvents')],
  [/calls\.c lists DeleteCluster, which no file of plugins\/ecs calls/,
    (c) => [...c, { service: 'MN_ECS_SVC_ECS', action: 'DeleteCluster', iam: ['ecs:DeleteCluster'] }]],
];
for (const [expected, mutate] of callBreakages) {
  const found = checkAll(template, mutate(clone(calls)), docPolicy, sources);
  if (!found.some((p) => expected.test(p))) {
    console.error(`not caught: ${expected}; found:\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
  caught++;
}
console.log(`ok: ${caught} broken copies caught`);
if (process.argv[4]) {
  fs.writeFileSync(process.argv[4], renderDaemonConfig(template));
  console.log(`ok: the daemon's configuration rendered into ${process.argv[4]}`);
}
