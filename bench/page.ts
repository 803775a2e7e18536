// npm run bench:page [-- --only conv3x3,unet] [-- --engines wgseg,ort-webgpu] [-- --runs N]
// The peer benchmark page (demos/bench/) in headless Debian Chromium, WebGPU on SwiftShader (the
// browser tests' flags and server, test/helpers/browser.ts): prints the page's rows as the same
// table `npm run bench:peers` prints.
import { formatTable, type Row } from './peers/harness';
import { openSite } from '../test/helpers/browser';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const models = opt('--only') ?? 'conv3x3,atrous-d12,conv_transpose-k4s2,grid_sample,resize-x8,unet,deeplabv3-aspp';
const engines = opt('--engines') ?? 'wgseg,ort-webgpu';
const runs = opt('--runs') ?? '5';

const site = await openSite();
try {
  const { page, errors } = await site.open(`demos/bench/?models=${models}&engines=${engines}&runs=${runs}`);
  await page.click('#run');
  await page.waitForFunction(
    () => (window as { benchDone?: boolean }).benchDone || document.querySelector('#status.error'),
    null,
    { timeout: 3_600_000 },
  );
  console.log(await page.locator('#status').textContent());
  const rows = (await page.evaluate(() => (window as { benchRows?: unknown[] }).benchRows)) as Row[];
  console.log(formatTable(rows));
  if (errors.length) console.log(`page errors:\n  ${errors.join('\n  ')}`);
} finally {
  await site.close();
}
