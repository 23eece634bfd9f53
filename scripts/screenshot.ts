/**
 * Screenshot of an HTML page (e.g. a `--report report.html`) in headless Chromium, and what
 * it rendered: the plots' sizes and marks, and any console error.
 *
 *   npm run build && node dist/scripts/screenshot.js report.html report.png [--width 1200]
 */
import { writeFileSync } from 'node:fs';
import { renderPage } from '../src/browser/screenshot.js';

const [html, png] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--width');
const widthAt = process.argv.indexOf('--width');
if (!html || !png) {
  process.stderr.write('usage: node dist/scripts/screenshot.js <page.html> <out.png> [--width 1200]\n');
  process.exit(2);
}
const page = await renderPage(html, widthAt > 0 ? Number(process.argv[widthAt + 1]) : undefined);
writeFileSync(png, page.png);
process.stdout.write(`${png}: ${page.png.length} bytes, ${page.browser}\n`);
for (const p of page.plots) process.stdout.write(`  plot ${p.kind}: ${Math.round(p.width)}x${Math.round(p.height)} px, ${p.marks} marks\n`);
for (const m of page.messages) process.stdout.write(`  console ${m.type}: ${m.text}\n`);
