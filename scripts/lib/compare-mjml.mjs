// Screenshots NAME.bulletin.html and NAME.mjml.html of a folder in headless Chromium at 600 and
// 375 px, every image answered by the same placeholder and every other request refused, and
// prints which are pixel-identical (Chromium encodes equal pixels to equal PNG bytes).
import { createRequire } from 'node:module';
import { readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const require = createRequire(join(process.env.NODE_PATH, 'x'));
const { chromium } = require('playwright-core');

const [dir, out] = process.argv.slice(2);
const WIDTHS = [600, 375];
// A 120x80 PNG of one grey: the placeholder of every image.
const PLACEHOLDER = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAHgAAABQAQMAAADoVSPKAAAAA1BMVEW/v79R+5idAAAAEklEQVR42mNgGAWjYBSMgpEJAAUAAAEFu6vEAAAAAElFTkSuQmCC',
  'base64');

const executablePath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--hide-scrollbars',
         '--font-render-hinting=none'],
});
const names = readdirSync(dir).filter(f => f.endsWith('.mjml.html')).map(f => f.slice(0, -'.mjml.html'.length)).sort();
const totals = Object.fromEntries(WIDTHS.map(w => [w, 0]));
let compared = 0;
for (const name of names) {
  const ours = join(dir, `${name}.bulletin.html`);
  if (!existsSync(ours)) { console.log(`${name}: not built by bulletin`); continue; }
  compared++;
  const row = [];
  for (const width of WIDTHS) {
    const shots = [];
    for (const file of [join(dir, `${name}.mjml.html`), ours]) {
      const page = await browser.newPage({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
      await page.route('**/*', route => {
        const req = route.request();
        if (req.url().startsWith('file:')) return route.continue();
        if (req.resourceType() === 'image') return route.fulfill({ status: 200, contentType: 'image/png', body: PLACEHOLDER });
        return route.abort();
      });
      await page.goto('file://' + resolve(file), { waitUntil: 'load' });
      shots.push(await page.screenshot({ fullPage: true }));
      await page.close();
    }
    const same = shots[0].equals(shots[1]);
    if (same) totals[width]++;
    else {
      writeFileSync(join(out, `${name}-${width}-mjml.png`), shots[0]);
      writeFileSync(join(out, `${name}-${width}-bulletin.png`), shots[1]);
    }
    row.push(`${width}px ${same ? 'identical' : 'DIFFERS'}`);
  }
  console.log(`${name}: ${row.join(', ')}`);
}
await browser.close();
console.log(`identical: ${WIDTHS.map(w => `${totals[w]}/${compared} at ${w} px`).join(', ')}`);
