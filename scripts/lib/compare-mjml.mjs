// Screenshots NAME.bulletin.html and NAME.mjml.html of a folder in headless Chromium at 600 and
// 375 px, every image answered by the same placeholder and every other request refused, and
// prints which are pixel-identical (Chromium encodes equal pixels to equal PNG bytes). A page
// whose first shots differ is shot again; it counts as identical only if mjml's own page renders
// in more than one way and one of those renderings is also bulletin's.
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
// Some pages do not render the same way twice in Chromium (anti-aliasing along rounded borders
// changes from load to load): when the first shots differ, each page is shot this many times more.
const RETRIES = 6;

async function shoot(file, width) {
  const page = await browser.newPage({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
  await page.route('**/*', route => {
    const req = route.request();
    if (req.url().startsWith('file:')) return route.continue();
    if (req.resourceType() === 'image') return route.fulfill({ status: 200, contentType: 'image/png', body: PLACEHOLDER });
    return route.abort();
  });
  await page.goto('file://' + resolve(file), { waitUntil: 'load' });
  const shot = await page.screenshot({ fullPage: true });
  await page.close();
  return shot;
}

let compared = 0;
for (const name of names) {
  const ours = join(dir, `${name}.bulletin.html`);
  if (!existsSync(ours)) { console.log(`${name}: not built by bulletin`); continue; }
  compared++;
  const row = [];
  for (const width of WIDTHS) {
    const theirs = [await shoot(join(dir, `${name}.mjml.html`), width)];
    const mine = [await shoot(ours, width)];
    let verdict = theirs[0].equals(mine[0]) ? 'identical' : null;
    if (!verdict) {
      for (let i = 0; i < RETRIES; i++) {
        theirs.push(await shoot(join(dir, `${name}.mjml.html`), width));
        mine.push(await shoot(ours, width));
      }
      const distinct = shots => shots.filter((s, i) => shots.findIndex(t => t.equals(s)) === i);
      const theirKinds = distinct(theirs);
      const shared = theirKinds.some(t => mine.some(m => m.equals(t)));
      // Counted identical only when mjml's own page varies too and the two share a rendering:
      // then the difference is Chromium's, not the markup's.
      if (theirKinds.length > 1 && shared) {
        verdict = `identical (mjml's page too renders ${theirKinds.length} ways in ${theirs.length} loads, ` +
          `bulletin's ${distinct(mine).length}; they share one)`;
      }
    }
    if (verdict) totals[width]++;
    else {
      writeFileSync(join(out, `${name}-${width}-mjml.png`), theirs[0]);
      writeFileSync(join(out, `${name}-${width}-bulletin.png`), mine[0]);
    }
    row.push(`${width}px ${verdict ?? 'DIFFERS'}`);
  }
  console.log(`${name}: ${row.join(', ')}`);
}
await browser.close();
console.log(`identical: ${WIDTHS.map(w => `${totals[w]}/${compared} at ${w} px`).join(', ')}`);
