// The official `openai` npm package against a running playground, as a program written for
// OpenAI's Images API would use it after changing only its base URL and key. The expectations
// are OpenAI's: the answer shapes, the streamed events and the typed errors the SDK raises.
//
// Run by tests/clients/test_openai_node.py, which starts the server and sets:
//   PLAYGROUND_URL            the server's base URL, without /v1
//   PLAYGROUND_API_KEY        a playground API key
//   PLAYGROUND_MODEL          an image model the server offers
//   PLAYGROUND_BLOCKED_PROMPT a prompt the upstream refuses by moderation

import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';

import OpenAI, { AuthenticationError, BadRequestError, NotFoundError, toFile } from 'openai';

function setting(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through pytest`);
  return value;
}

const BASE_URL = setting('PLAYGROUND_URL');
const MODEL = setting('PLAYGROUND_MODEL');
const BLOCKED_PROMPT = setting('PLAYGROUND_BLOCKED_PROMPT');

function clientWith(apiKey) {
  return new OpenAI({ baseURL: `${BASE_URL}/v1`, apiKey, maxRetries: 0, timeout: 60_000 });
}

const client = clientWith(setting('PLAYGROUND_API_KEY'));

// -- PNG files made here, so the tests need no image library ------------------------------
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGBA PNG of width x height whose pixel at (x, y) is rgbaAt(x, y). */
function png(width, height, rgbaAt) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const stride = 1 + width * 4; // each row starts with its filter byte (0: none)
  const raw = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) raw.set(rgbaAt(x, y), y * stride + 1 + x * 4);
  }
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function assertPng(b64, what) {
  assert.equal(typeof b64, 'string', `${what}: no b64_json`);
  const bytes = Buffer.from(b64, 'base64');
  assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE), `${what}: not a PNG`);
}

function assertUsage(usage) {
  assert.ok(usage, 'no usage');
  for (const field of ['input_tokens', 'output_tokens', 'total_tokens']) {
    assert.equal(typeof usage[field], 'number', `usage.${field}`);
  }
  assert.ok(usage.total_tokens > 0);
}

/** The error a request fails with; a request that succeeds (or opens a stream) fails the test. */
async function failure(request) {
  let answer;
  try {
    answer = await request;
  } catch (error) {
    return error;
  }
  answer?.controller?.abort(); // a stream that opened instead of failing: close it
  assert.fail(`expected the request to fail, but it answered ${answer?.constructor?.name}`);
}

function assertApiError(error, ErrorClass, expected) {
  assert.ok(
    error instanceof ErrorClass,
    `expected ${ErrorClass.name}, got ${error?.constructor?.name}: ${error?.message}`,
  );
  assert.equal(typeof error.error?.message, 'string', 'the error has no message');
  for (const [field, value] of Object.entries(expected)) {
    assert.equal(error[field], value, `error.${field} (${error.message})`);
  }
}

// -- Answers -------------------------------------------------------------------------------
test('a generation answers base64 PNG data with its usage', async () => {
  const result = await client.images.generate({
    model: MODEL,
    prompt: 'a lighthouse at dusk',
    size: '1024x1024',
    quality: 'low',
  });
  assert.equal(result.data.length, 1);
  assertPng(result.data[0].b64_json, 'data[0]');
  assert.equal(typeof result.created, 'number');
  assertUsage(result.usage);
});

test('an edit takes two images and a mask made with toFile', async () => {
  const red = () => [200, 30, 30, 255];
  const blue = () => [30, 30, 200, 255];
  const mask = (x, y) => (x >= 10 && x < 60 && y >= 10 && y < 60 ? [0, 0, 0, 0] : [0, 0, 0, 255]);
  const result = await client.images.edit({
    model: MODEL,
    prompt: 'put a hat on it',
    image: [
      await toFile(png(640, 480, red), 'first.png', { type: 'image/png' }),
      await toFile(png(300, 300, blue), 'second.png', { type: 'image/png' }),
    ],
    mask: await toFile(png(640, 480, mask), 'mask.png', { type: 'image/png' }),
    size: '1024x1024',
    quality: 'low',
  });
  assert.equal(result.data.length, 1);
  assertPng(result.data[0].b64_json, 'data[0]');
  assertUsage(result.usage);
});

test('a streamed generation sends partial images, then the completed image', async () => {
  const stream = await client.images.generate({
    model: MODEL,
    prompt: 'a lighthouse in the rain',
    size: '1024x1024',
    quality: 'low',
    stream: true,
    partial_images: 2,
  });
  const events = [];
  for await (const event of stream) events.push(event);

  const completed = events.at(-1);
  const partials = events.slice(0, -1);
  assert.equal(completed?.type, 'image_generation.completed', JSON.stringify(events.map((e) => e.type)));
  // OpenAI may send fewer partial images than asked for, never more.
  assert.ok(partials.length >= 1 && partials.length <= 2, `${partials.length} partial images`);
  for (const [index, event] of partials.entries()) {
    assert.equal(event.type, 'image_generation.partial_image');
    assert.equal(event.partial_image_index, index);
    assertPng(event.b64_json, `partial image ${index}`);
  }
  assertPng(completed.b64_json, 'completed image');
  assertUsage(completed.usage);
});

// -- Errors the SDK raises as its typed errors ---------------------------------------------
test('a bad size is a BadRequestError naming the size as an invalid value', async () => {
  const error = await failure(client.images.generate({ model: MODEL, prompt: 'a cat', size: '13x7' }));
  assertApiError(error, BadRequestError, {
    status: 400,
    type: 'invalid_request_error',
    param: 'size',
    code: 'invalid_value',
  });
});

test('an unknown parameter is a BadRequestError naming it', async () => {
  const error = await failure(client.images.generate({ model: MODEL, prompt: 'a cat', colour: 'red' }));
  assertApiError(error, BadRequestError, {
    status: 400,
    type: 'invalid_request_error',
    param: 'colour',
    code: 'unknown_parameter',
  });
});

test('a bad key is an AuthenticationError', async () => {
  const stranger = clientWith('sk-not-a-real-key-0000000000000000');
  const error = await failure(stranger.images.generate({ model: MODEL, prompt: 'a cat' }));
  assertApiError(error, AuthenticationError, { status: 401, code: 'invalid_api_key' });
});

test('a prompt refused by moderation is a BadRequestError moderation_blocked', async () => {
  const error = await failure(client.images.generate({ model: MODEL, prompt: BLOCKED_PROMPT }));
  assertApiError(error, BadRequestError, { status: 400, code: 'moderation_blocked' });
});

test('a streamed request refused by moderation fails with the HTTP error, not an event', async () => {
  const error = await failure(
    client.images.generate({ model: MODEL, prompt: BLOCKED_PROMPT, stream: true, partial_images: 1 }),
  );
  assertApiError(error, BadRequestError, { status: 400, code: 'moderation_blocked' });
});

test('an unknown path is a NotFoundError in OpenAI\'s error shape', async () => {
  const error = await failure(client.post('/images/variationz', { body: { prompt: 'a cat' } }));
  assertApiError(error, NotFoundError, { status: 404, type: 'invalid_request_error' });
});
