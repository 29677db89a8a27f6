// workbench.js URL SCREENSHOT USER_DATA_DIR [SOCKS_PORT]: opens URL in Debian's headless
// Chromium driven by playwright-core (PLAYWRIGHT_CORE names its folder), through a SOCKS5 proxy
// on 127.0.0.1:SOCKS_PORT when given, waits for the VS Code workbench and its parts, saves a
// screenshot and prints a JSON report. Exits 0 even when the workbench did not render: the Go
// test judges the report.
"use strict";
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const parts = [
	".monaco-workbench",
	".part.titlebar",
	".part.activitybar",
	".part.sidebar",
	".part.editor",
	".part.panel",
	".part.statusbar",
];

async function main() {
	const [url, screenshot, userDataDir, socksPort] = process.argv.slice(2);
	const args = [
		"--no-sandbox",
		"--disable-gpu",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
	];
	if (socksPort) {
		// <-loopback> takes 127.0.0.1 off the default bypass list, so it goes through the tunnel.
		args.push(`--proxy-server=socks5://127.0.0.1:${socksPort}`, "--proxy-bypass-list=<-loopback>");
	}
	const ctx = await chromium.launchPersistentContext(userDataDir, {
		executablePath: "/usr/bin/chromium",
		headless: true,
		args,
		viewport: { width: 1280, height: 800 },
	});
	const report = { url: url.replace(/tkn=[^&]*/, "tkn=…"), parts: {}, console: [] };
	try {
		const page = ctx.pages()[0] || (await ctx.newPage());
		page.on("console", (m) => {
			if (m.type() === "error" && report.console.length < 20) report.console.push(m.text());
		});
		// Chromium aborts what is in flight with ERR_NETWORK_CHANGED when the host's network
		// interfaces change, as they do all the time while other tests create containers: a
		// load that fails so is tried again (a few times), anything else is judged as it is.
		let onNetworkChanged = () => {};
		report.networkChanges = 0;
		page.on("requestfailed", (r) => {
			const f = r.failure();
			if (f && /ERR_NETWORK_CHANGED/.test(f.errorText)) {
				report.networkChanges++;
				onNetworkChanged();
			}
		});
		for (let attempt = 1; ; attempt++) {
			const changed = new Promise((resolve) => (onNetworkChanged = resolve));
			report.loads = attempt;
			delete report.waitError;
			let outcome;
			try {
				const resp = await page.goto(url, { waitUntil: "domcontentloaded", timeout: 60000 });
				report.status = resp ? resp.status() : 0;
				const rendered = page
					.waitForSelector(".monaco-workbench .part.statusbar", { state: "visible", timeout: 120000 })
					.then(
						() => "rendered",
						(e) => {
							if (report.loads === attempt) report.waitError = String(e.message || e).split("\n")[0];
							return "failed";
						},
					);
				outcome = await Promise.race([rendered, changed.then(() => "network changed")]);
			} catch (e) {
				report.waitError = String(e.message || e).split("\n")[0];
				outcome = report.networkChanges > 0 ? "network changed" : "failed";
			}
			if (outcome === "network changed" && attempt < 4) {
				await new Promise((r) => setTimeout(r, 2000));
				continue;
			}
			if (outcome === "network changed") {
				report.waitError = "the load was cut by network changes " + attempt + " times";
			}
			break;
		}
		// The explorer fills in once the extension host and the remote file system answer.
		await page.waitForSelector(".explorer-folders-view .monaco-list-row", { timeout: 60000 }).catch(() => {});
		for (const p of parts) {
			report.parts[p] = await page.locator(p).first().isVisible().catch(() => false);
		}
		report.explorerRows = await page.locator(".explorer-folders-view .monaco-list-row").allInnerTexts().catch(() => []);
		report.title = await page.title();
		await page.screenshot({ path: screenshot });
		report.screenshot = screenshot;
	} finally {
		await ctx.close();
	}
	process.stdout.write(JSON.stringify(report) + "\n");
}

main().catch((e) => {
	process.stderr.write(String(e.stack || e) + "\n");
	process.exit(1);
});
