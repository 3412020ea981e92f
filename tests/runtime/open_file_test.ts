import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENGINES, label, pattern, readAll, runtimeFor } from "./_helpers.ts";

for (const engine of ENGINES) {
  test(`RuntimeAdapter.openFile streams a whole file (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const dir = mkdtempSync(join(tmpdir(), "netstreams-"));
    try {
      const path = join(dir, "data.bin");
      const data = pattern(300_000, 4);
      writeFileSync(path, data);
      const bytes = await readAll(await runtime.openFile(path));
      assert.equal(bytes.byteLength, data.byteLength);
      assert.deepEqual(bytes, data);
      const empty = join(dir, "empty.bin");
      writeFileSync(empty, new Uint8Array(0));
      assert.equal((await readAll(await runtime.openFile(empty))).byteLength, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`RuntimeAdapter.openFile stream can be cancelled midway (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const dir = mkdtempSync(join(tmpdir(), "netstreams-"));
    try {
      const path = join(dir, "big.bin");
      writeFileSync(path, pattern(1_000_000, 6));
      const reader = (await runtime.openFile(path)).getReader();
      const first = await reader.read();
      assert.equal(first.done, false);
      assert.ok(first.value!.byteLength > 0);
      await reader.cancel(); // releases the file handle (Deno's sanitizers check it)
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`RuntimeAdapter.openFile rejects a missing file with code ENOENT (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    await assert.rejects(
      runtime.openFile(join(tmpdir(), `netstreams-missing-${Date.now()}.bin`)),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "ENOENT");
        return true;
      },
    );
  });
}
