#!/usr/bin/env node
// Reference answers for the differential test of shared/iampolicy.
//
// Reads the request corpus written by shared/iampolicy/gen_simulate.go and asks
// the pinned @cloud-copilot/iam-simulate what it decides for every request.
// The corpus format is described in
// shared/iampolicy/testdata/simulate/README.md.
//
// Usage (from the repository root, after `make node-tools`):
//
//   node tools/node/simulate.mjs [--corpus FILE] [--out FILE]
//       Simulate every request and write one answer per line to --out
//       (default: the committed want.jsonl next to the corpus).
//
//   node tools/node/simulate.mjs --sample N [--corpus FILE] [--want FILE]
//       Simulate every Nth request (ids 1, 1+N, 1+2N, ...) and compare with
//       the committed answers. Exits 1 listing the ids whose answer drifted.
//
// Each request is simulated as the role arn:aws:iam::111122223333:role/ecsguard-sim
// acting on a resource owned by the same account (the corpus only uses
// same-account resources), with the set's identity policies, its permissions
// boundary if any, no SCPs/RCPs, no session policy, in Discovery mode, and
// the request context of an ECS task role session: the one
// iampolicy.RoleSession describes (see SESSION below), given to iam-simulate
// as context values and discoveryContextKeyConstraints. Keys it knows are
// decided; every other key stays undecided (Discovery). kms:* requests also get the default key policy
// ("Enable IAM User Permissions": the account root may use kms:*), because
// KMS only honours identity policies when the key policy delegates to the
// account; with it, identity policies alone decide, as they do for every other
// service in the corpus.
//
// Mapping of a runSimulation answer to the answers ecsguard uses:
//
//   resultType 'error'                       -> "error:<message> <details>"
//   overallResult 'ExplicitlyDenied'         -> "NotAllowed"
//   overallResult 'ImplicitlyDenied'         -> "NotAllowed"
//   overallResult 'Allowed', and
//     result.analysis.conditions is absent   -> "Allowed"
//     result.analysis.conditions is present  -> "Conditional"
//
// In Discovery mode iam-simulate ignores every condition whose context key is
// unknown (the request context is empty, so that is every condition): a
// statement whose Condition cannot be decided still "matches", and the
// request comes out 'Allowed'. What distinguishes "allowed only if conditions
// hold" from "allowed" is result.analysis.conditions: it is present only on an
// Allowed result that depends on ignored conditions, and holds the condition
// expression that must hold. It is a tree of
//   {conditionType:'condition', op, key, values, sources:[{policyType, effect, ...}], inverted?}
//   {conditionType:'group', operator:'and'|'or', conditions:[...]}
//   {conditionType:'always'} / {conditionType:'never'} (simplified away by iam-simulate)
// Conditions of matching Allow statements enter it as they are; conditions of
// matching Deny statements enter it inverted (the condition under which the
// Deny does not apply, sources[].effect 'Deny'). So an unconditional Allow
// plus a Deny with a Condition is 'Allowed' with conditions, i.e. Conditional.
// An Allow whose conditions do not matter (another Allow grants without
// conditions) leaves conditions absent; analysis.ignoredConditions still lists
// them, so it is NOT used for the mapping.
//
// For a Conditional answer the condition expression is kept, compacted, in
// the "cond" field: a leaf is "<allow|deny|mixed> <condition key>" (by the
// effect of the statements it came from), a group is ["and"|"or", ...].
// The Go test uses it to tell documented semantic differences (conditions of
// Deny statements, iam:PassedToService on iam:PassRole) from real ones.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const ACCOUNT = '111122223333';
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/ecsguard-sim`;
const KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*'
    }
  ]
};

// The request context of a session of the role, as an AWS service (ECS)
// obtains it: iampolicy.RoleSession in shared/iampolicy/context.go, from the
// Availability of each key in
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
const SESSION = {
  // Present with a known value.
  known: {
    'aws:PrincipalType': 'AssumedRole',
    'aws:PrincipalArn': PRINCIPAL,
    'aws:PrincipalAccount': ACCOUNT,
    'aws:MultiFactorAuthPresent': 'false',
    'aws:PrincipalIsAWSService': 'false'
  },
  // Never present for a role session.
  absent: [
    'aws:username', 'aws:MultiFactorAuthAge', 'aws:FederatedProvider', 'aws:PrincipalServiceName',
    'aws:PrincipalServiceNamesList', 'aws:Ec2InstanceSourceVpc', 'aws:Ec2InstanceSourcePrivateIPv4',
    'aws:referer', 'aws:SourceAccount', 'aws:SourceArn', 'aws:SourceOrgID', 'aws:SourceOrgPaths'
  ],
  // Present, with a value only the request has (a sample value; its
  // presence is known, its value is not).
  present: {
    'aws:userid': 'AROAEXAMPLEROLEID:0123456789abcdef',
    'aws:TokenIssueTime': '2026-01-01T00:00:00Z',
    'aws:CurrentTime': '2026-01-01T00:00:00Z',
    'aws:EpochTime': '1767225600',
    'aws:SecureTransport': 'true',
    'aws:RequestedRegion': 'us-east-1',
    'aws:UserAgent': 'aws-sdk-go-v2',
    'aws:ViaAWSService': 'false'
  }
};

// Keys with a service prefix that reach requests to other services
// (iampolicy.crossService); any other such key is absent from requests to
// another service.
const CROSS_SERVICE = new Set([
  'ec2:sourceinstancearn', 'ec2:sourceinstanceprivateipv4', 'ec2:roledelivery', 'lambda:sourcefunctionarn',
  'glue:roleassumedby', 'glue:credentialissuingservice', 'ssm:sourceinstancearn', 'identitystore:userid'
]);

// conditionKeys lists the condition keys of a set's policies, lower case.
function conditionKeys(policies) {
  const keys = new Set();
  for (const { policy } of policies) {
    const stmts = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
    for (const st of stmts) {
      for (const block of Object.values(st?.Condition || {})) {
        for (const k of Object.keys(block || {})) keys.add(k.toLowerCase());
      }
    }
  }
  return keys;
}

// requestContext returns the context values and the Discovery constraints
// of a request: the session's keys, the request's own (iam:PassedToService),
// and, known absent, the service keys of the set's conditions that belong
// to another service than the action's.
function requestContext(set, req) {
  const values = {};
  const constraints = [];
  const known = (k) => constraints.push({ keyName: k, presenceIsKnown: true, valueIsKnown: true });
  for (const [k, v] of Object.entries(SESSION.known)) {
    values[k] = v;
    known(k);
  }
  for (const k of SESSION.absent) known(k);
  for (const [k, v] of Object.entries(SESSION.present)) {
    values[k] = v;
    constraints.push({ keyName: k, presenceIsKnown: true, valueIsKnown: false });
  }
  for (const [k, v] of Object.entries(req.context || {})) {
    values[k] = v.length === 1 ? v[0] : v;
    known(k);
  }
  const service = req.action.split(':')[0].toLowerCase();
  for (const k of set.conditionKeys) {
    const prefix = k.split(':')[0];
    if (prefix !== 'aws' && prefix !== service && !CROSS_SERVICE.has(k) && !(k in values)) known(k);
  }
  constraints.push({ keyName: '/.*/', presenceIsKnown: false, valueIsKnown: false });
  return { values, constraints };
}

function usage(msg) {
  if (msg) console.error(`simulate.mjs: ${msg}`);
  console.error('usage: node tools/node/simulate.mjs [--corpus FILE] [--out FILE | --sample N [--want FILE]]');
  process.exit(2);
}

function parseArgs(argv) {
  const dir = join(root, 'shared/iampolicy/testdata/simulate');
  const opts = {
    corpus: join(dir, 'corpus.jsonl'),
    out: join(dir, 'want.jsonl'),
    want: join(dir, 'want.jsonl'),
    sample: 0,
    nodeDir: process.env.NODE_TOOLS_DIR || join(root, '.tools/node')
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--corpus': opts.corpus = resolve(val()); break;
      case '--out': opts.out = resolve(val()); break;
      case '--want': opts.want = resolve(val()); break;
      case '--sample': {
        const n = Number(val());
        if (!Number.isInteger(n) || n < 1) usage('--sample needs a positive integer');
        opts.sample = n;
        break;
      }
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  return opts;
}

// Load iam-simulate from the pinned install in .tools/node, refusing any
// other version than the one tools/node/package.json pins.
async function loadSimulator(nodeDir) {
  const pinned = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).dependencies['@cloud-copilot/iam-simulate'];
  const pkgDir = join(nodeDir, 'node_modules/@cloud-copilot/iam-simulate');
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  } catch {
    console.error(`simulate.mjs: ${pkgDir} is missing; run \`make node-tools\``);
    process.exit(2);
  }
  if (pkg.version !== pinned) {
    console.error(`simulate.mjs: installed iam-simulate ${pkg.version}, pinned ${pinned}; run \`make node-tools\``);
    process.exit(2);
  }
  const entry = pkg.exports['.'].import;
  const mod = await import(pathToFileURL(join(pkgDir, entry)).href);
  return { runSimulation: mod.runSimulation, version: pkg.version };
}

function readCorpus(file) {
  const policies = new Map();
  const sets = new Map();
  const requests = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let o;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: ${e.message}`);
    }
    if ('policy' in o) {
      // A URL-encoded document (the form IAM APIs return) is a JSON string.
      const doc = typeof o.doc === 'string' ? JSON.parse(decodeURIComponent(o.doc)) : o.doc;
      policies.set(o.policy, doc);
    } else if ('id' in o) {
      requests.push(o);
    } else if ('set' in o) {
      sets.set(o.set, o);
    } else {
      throw new Error(`${file}:${i + 1}: unknown line`);
    }
  });
  const policy = (name) => {
    if (!policies.has(name)) throw new Error(`unknown policy ${name}`);
    return { name, policy: policies.get(name) };
  };
  for (const s of sets.values()) {
    s.identityPolicies = s.identity.map(policy);
    s.boundaryPolicies = s.boundary ? [policy(s.boundary)] : undefined;
    s.conditionKeys = conditionKeys([...s.identityPolicies, ...(s.boundaryPolicies || [])]);
  }
  for (const r of requests) {
    if (!sets.has(r.set)) throw new Error(`request ${r.id}: unknown set ${r.set}`);
  }
  return { sets, requests };
}

function leafEffect(sources) {
  const effects = new Set((sources || []).map((s) => s.effect));
  if (effects.size === 1) return effects.has('Deny') ? 'deny' : 'allow';
  return 'mixed';
}

// Compact form of an AllowedConditionExpression (see the header).
function compact(expr) {
  switch (expr.conditionType) {
    case 'condition':
      return `${leafEffect(expr.sources)} ${expr.key}`;
    case 'group':
      return [expr.operator, ...expr.conditions.map(compact)];
    case 'always':
      return true;
    case 'never':
      return false;
    case 'sessionName':
      return `${leafEffect(expr.sources)} sessionName`;
    default:
      return `unknown ${expr.conditionType}`;
  }
}

function errorText(errors) {
  const parts = [errors.message];
  for (const [k, v] of Object.entries(errors)) {
    if (k === 'message') continue;
    if (Array.isArray(v)) {
      parts.push(`${k}: ${v.map((e) => (typeof e === 'string' ? e : `${e.path} ${e.message}`)).join('; ')}`);
    } else if (v && typeof v === 'object') {
      for (const [name, errs] of Object.entries(v)) {
        parts.push(`${k} ${name}: ${errs.map((e) => `${e.path} ${e.message}`).join('; ')}`);
      }
    }
  }
  return parts.join(' | ');
}

async function answer(runSimulation, set, req) {
  const ctx = requestContext(set, req);
  const simulation = {
    request: {
      principal: PRINCIPAL,
      action: req.action,
      resource: { resource: req.resource, accountId: ACCOUNT },
      contextVariables: ctx.values
    },
    identityPolicies: set.identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    permissionBoundaryPolicies: set.boundaryPolicies
  };
  if (req.action.toLowerCase().startsWith('kms:')) {
    simulation.resourcePolicy = KEY_POLICY;
  }
  let res;
  try {
    res = await runSimulation(simulation, { simulationMode: 'Discovery', discoveryContextKeyConstraints: ctx.constraints });
  } catch (e) {
    return { want: `error:exception ${e.message}` };
  }
  if (res.resultType === 'error') {
    return { want: `error:${errorText(res.errors)}` };
  }
  if (res.resultType !== 'single') {
    // A request resource with a wildcard: several simulations, not one answer.
    return { want: `error:unexpected resultType ${res.resultType}` };
  }
  switch (res.overallResult) {
    case 'ExplicitlyDenied':
    case 'ImplicitlyDenied':
      return { want: 'NotAllowed' };
    case 'Allowed': {
      const cond = res.result.analysis?.conditions;
      if (!cond || cond.conditionType === 'always') return { want: 'Allowed' };
      if (cond.conditionType === 'never') return { want: 'error:Allowed with a never-satisfied condition' };
      return { want: 'Conditional', cond: compact(cond) };
    }
    default:
      return { want: `error:unexpected overallResult ${res.overallResult}` };
  }
}

function line(id, a) {
  const o = { id, want: a.want };
  if (a.cond !== undefined) o.cond = a.cond;
  return JSON.stringify(o);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { runSimulation, version } = await loadSimulator(opts.nodeDir);
  const { sets, requests } = readCorpus(opts.corpus);
  const started = Date.now();

  if (opts.sample === 0) {
    const out = [];
    const counts = {};
    for (const req of requests) {
      const a = await answer(runSimulation, sets.get(req.set), req);
      const k = a.want.startsWith('error:') ? 'error' : a.want;
      counts[k] = (counts[k] || 0) + 1;
      out.push(line(req.id, a));
    }
    writeFileSync(opts.out, out.join('\n') + '\n');
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`iam-simulate ${version}: ${requests.length} requests in ${secs}s -> ${opts.out} ${JSON.stringify(counts)}`);
    return;
  }

  // --sample N: replay every Nth request and compare with the committed answers.
  const committed = new Map();
  for (const l of readFileSync(opts.want, 'utf8').split('\n')) {
    if (l.trim() === '') continue;
    const o = JSON.parse(l);
    committed.set(o.id, l);
  }
  if (committed.size !== requests.length) {
    console.error(`simulate.mjs: ${opts.want} has ${committed.size} answers for ${requests.length} requests; run \`make simulate\``);
    process.exit(1);
  }
  const drifted = [];
  let checked = 0;
  for (const req of requests) {
    if ((req.id - 1) % opts.sample !== 0) continue;
    checked++;
    const got = line(req.id, await answer(runSimulation, sets.get(req.set), req));
    const want = committed.get(req.id);
    if (got !== want) drifted.push({ id: req.id, committed: want, now: got });
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (drifted.length > 0) {
    console.error(`iam-simulate ${version}: ${drifted.length} of ${checked} sampled answers differ from ${opts.want}:`);
    for (const d of drifted.slice(0, 20)) {
      console.error(`  id ${d.id}\n    committed ${d.committed}\n    now       ${d.now}`);
    }
    console.error(`differing ids: ${drifted.map((d) => d.id).join(' ')}`);
    console.error('regenerate with `make simulate` and review the change');
    process.exit(1);
  }
  console.log(`iam-simulate ${version}: ${checked} sampled answers match ${opts.want} (${secs}s)`);
}

main().catch((e) => {
  console.error(`simulate.mjs: ${e.stack || e.message}`);
  process.exit(2);
});
