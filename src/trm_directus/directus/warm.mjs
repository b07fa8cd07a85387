// A Directus CLI started ahead of its turn (directus/cli.py `prewarm`).
//
// Loading Directus's modules takes ~2.5 s of one core per CLI call; the call itself is often
// shorter. Started with the CLI's entry script (`run.js` of @directus/api, or the image's
// /directus/cli.js), this process loads those modules at once, touching no database, then waits
// for one line on stdin: the command's arguments as a JSON array. It then runs exactly what
// `<entry> <arguments…>` would run. End of input without a line: exit 0 without doing anything.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';

const entry = process.argv[2];
if (!entry) {
	console.error('usage: node warm.mjs <Directus CLI entry script>');
	process.exit(2);
}
// run.js sits beside the CLI module (@directus/api/dist/cli/); the image's cli.js beside node_modules.
const index = entry.endsWith('run.js')
	? join(dirname(entry), 'index.js')
	: join(dirname(entry), 'node_modules', '@directus', 'api', 'dist', 'cli', 'index.js');
if (!existsSync(index)) {
	console.error(`warm.mjs: Directus's CLI module not found: ${index} (from ${entry})`);
	process.exit(2);
}
const { createCli } = await import(pathToFileURL(index).href);

const lines = createInterface({ input: process.stdin });
const line = await new Promise((resolve) => {
	lines.once('line', resolve);
	lines.once('close', () => resolve(null));
});
lines.close();
process.stdin.destroy();
if (line === null) process.exit(0);
const args = JSON.parse(line);
process.argv = [process.argv[0], entry, ...args];
createCli()
	.then((program) => program.parseAsync(process.argv))
	.catch((err) => {
		console.error(err);
		process.exit(1);
	});
