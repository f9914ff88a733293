// Tables in the documentation that come from the schema, between markers in the Markdown files:
//   <!-- BEGIN generated: NAME (scripts/gen-clients.mjs) -->
//   ...
//   <!-- END generated: NAME -->
import { ProtocolModel } from './model.mjs';

/** docs/PROTOCOL.md's table of error codes. */
export function protocolErrorTable(model) {
  const rows = model.errors.map((e) => {
    const data = e.data ? model.shapes.get(ProtocolModel.refName(e.data)) : undefined;
    const required = new Set(data?.required ?? []);
    const members = Object.keys(data?.properties ?? {}).map((m) => (required.has(m) ? m : `${m}?`));
    return `| ${e.code} | ${e.name} | ${e.message.replace(/\|/g, '\\|')} | ${members.length ? `\`{ ${members.join(', ')} }\`` : ''} |`;
  });
  return ['| code | name | meaning | `data` |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Replaces the text between the markers of `name` in `text` (which must have them). */
export function splice(text, name, content, file) {
  const begin = `<!-- BEGIN generated: ${name} (scripts/gen-clients.mjs) -->`;
  const end = `<!-- END generated: ${name} -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${begin} ... ${end} markers`);
  return `${text.slice(0, from + begin.length)}\n${content}\n${text.slice(to)}`;
}
