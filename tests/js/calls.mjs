// Calls a Gradio app through the official JavaScript client (@gradio/client), as a script would.
// stdin: {"url": ..., "calls": [{"endpoint": "/upscale", "values": {...}, "files": {"image": "/path/x.png"}}]}
// ("blobs" in place of "files": the same file as a Blob, without a name)
// ("info": true in place of "endpoint" asks for view_api()). stdout: one JSON list, a result per call:
// {"ok": true, "data": [...]} or {"ok": false, "error": "the message the client raised"}.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { Client } from "@gradio/client";

const input = JSON.parse(readFileSync(0, "utf8"));
const client = await Client.connect(input.url);
const results = [];
for (const call of input.calls) {
  try {
    if (call.info) {
      results.push({ ok: true, data: await client.view_api() });
      continue;
    }
    const values = { ...call.values };
    for (const [name, path] of Object.entries(call.files || {})) {
      values[name] = new File([readFileSync(path)], basename(path)); // a File with a name, as a browser has
    }
    for (const [name, path] of Object.entries(call.blobs || {})) {
      values[name] = new Blob([readFileSync(path)]); // no name, no type: what the API page's snippet sends
    }
    const answer = await client.predict(call.endpoint, values);
    results.push({ ok: true, data: answer.data });
  } catch (error) {
    results.push({ ok: false, error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));
process.exit(0);
