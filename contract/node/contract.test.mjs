// Contract test: Clerk's own JavaScript SDK, @clerk/backend (pinned in
// package.json and package-lock.json), drives `signintokens fake-server`
// through every scenario, and each answer as @clerk/backend decodes it is
// compared with the JSON the fake sent and with what Clerk documents.
//
// Run by `make contract`: SIGNINTOKENS names the built command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Every answer is recorded as it arrives. @clerk/backend takes fetch when it
// is loaded, so the recorder is in place before the import below.
let last; // the last answer: { status, json }
const realFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const rsp = await realFetch(...args);
  last = { status: rsp.status, json: await rsp.clone().json() };
  return rsp;
};
const { createClerkClient } = await import('@clerk/backend');

const USER = 'user_26Ect5GuCCeaFWwSDiiKcgAGtVk';
let fake;
let clerk;
let apiUrl; // CLERK_API_URL exactly as fake-server prints it: an origin, to which @clerk/backend adds /v1

// startFake runs the fake on a free port and reads its URL and key.
async function startFake() {
  const bin = process.env.SIGNINTOKENS;
  assert.ok(bin, 'set SIGNINTOKENS to the built signintokens command');
  const users = join(mkdtempSync(join(tmpdir(), 'contract-')), 'users.txt');
  writeFileSync(users, `${USER}\n`);
  fake = spawn(bin, ['fake-server', '--addr', '127.0.0.1:0', '--users', users], { stdio: ['ignore', 'pipe', 'inherit'] });
  const env = {};
  for await (const line of createInterface({ input: fake.stdout })) {
    const m = line.match(/^export (CLERK_API_URL|CLERK_SECRET_KEY)=(.*)$/);
    if (m) env[m[1]] = m[2];
    if (env.CLERK_API_URL && env.CLERK_SECRET_KEY) break;
  }
  return env;
}

before(async () => {
  const env = await startFake();
  // As Clerk's frameworks hand the environment to @clerk/backend: the values as printed, nothing derived.
  apiUrl = env.CLERK_API_URL;
  clerk = createClerkClient({ secretKey: env.CLERK_SECRET_KEY, apiUrl });
});

after(() => fake?.kill());

// sameToken checks @clerk/backend's SignInToken against the JSON it came from.
function sameToken(tok) {
  const raw = last.json;
  assert.equal(last.status, 200);
  assert.equal(tok.id, raw.id);
  assert.equal(tok.userId, raw.user_id);
  assert.equal(tok.status, raw.status);
  assert.equal(tok.token, raw.token);
  assert.equal(tok.url, raw.url);
  assert.equal(tok.createdAt, raw.created_at);
  assert.equal(tok.updatedAt, raw.updated_at);
  assert.ok(tok.createdAt > 1e12, `created_at ${tok.createdAt} is in milliseconds, as Clerk sends it`);
}

// sameError checks @clerk/backend's error against the JSON it came from and
// against the answer Clerk documents: status, code, meta.param_name.
async function sameError(call, status, code, param) {
  let err;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the call failed');
  assert.equal(err.clerkError, true, `a ClerkAPIResponseError, got ${err}`);
  const raw = last.json;
  assert.equal(err.status, status);
  assert.equal(last.status, status);
  assert.equal(err.clerkTraceId, raw.clerk_trace_id);
  assert.ok(err.clerkTraceId, 'a trace id');
  assert.equal(err.errors.length, raw.errors.length);
  err.errors.forEach((e, i) => {
    assert.equal(e.code, raw.errors[i].code);
    assert.equal(e.message, raw.errors[i].message);
    assert.equal(e.longMessage, raw.errors[i].long_message);
    assert.equal(e.meta?.paramName, raw.errors[i].meta?.param_name);
  });
  assert.equal(err.errors[0].code, code);
  if (param) assert.equal(err.errors[0].meta?.paramName, param);
}

test('create, create with expiry and org, revoke, revoke twice', async () => {
  const tok = await clerk.signInTokens.createSignInToken({ userId: USER, expiresInSeconds: 2592000 });
  sameToken(tok);
  assert.equal(tok.status, 'pending');
  sameToken(await clerk.signInTokens.createSignInToken({ userId: USER, orgId: 'org_2aB', expiresInSeconds: 60 }));

  const revoked = await clerk.signInTokens.revokeSignInToken(tok.id);
  sameToken(revoked);
  assert.equal(revoked.status, 'revoked');

  await sameError(() => clerk.signInTokens.revokeSignInToken(tok.id), 400, 'sign_in_token_cannot_be_revoked_code');
});

test('unknown user, unknown token', async () => {
  await sameError(() => clerk.signInTokens.createSignInToken({ userId: 'user_nobody', expiresInSeconds: 60 }), 404, 'resource_not_found');
  await sameError(() => clerk.signInTokens.revokeSignInToken('sit_nobody'), 404, 'resource_not_found');
});

test('missing user_id, unknown field', async () => {
  await sameError(() => clerk.signInTokens.createSignInToken({ expiresInSeconds: 60 }), 422, 'form_param_missing', 'user_id');
  await sameError(() => clerk.signInTokens.createSignInToken({ userId: USER, role: 'admin', expiresInSeconds: 60 }), 422, 'form_param_unknown', 'role');
});

test('wrong key', async () => {
  const wrong = createClerkClient({ secretKey: 'sk_test_wrong', apiUrl });
  await sameError(() => wrong.signInTokens.createSignInToken({ userId: USER, expiresInSeconds: 60 }), 401, 'clerk_key_invalid');
  // A key with a space makes "Bearer <key>" malformed.
  const malformed = createClerkClient({ secretKey: 'sk_test_a b', apiUrl });
  await sameError(() => malformed.signInTokens.createSignInToken({ userId: USER, expiresInSeconds: 60 }), 401, 'authorization_header_format_invalid');
});
