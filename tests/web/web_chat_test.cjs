// Drives the web chat page (web/public) in headless Chromium against a real
// backend, chatting with bob, a `mqchat` CLI user. Run by web_chat_test.sh,
// which starts the backend and has bob create "Book club" and say
// "welcome to the book club" before the page opens.
//
// What a person at the page would check:
//   - the page and everything it loads come from the broker's port, nothing
//     from elsewhere (no CDN), and no script error happens;
//   - carol registers and logs in, finds "Book club" (owner bob) in the room
//     list and joins it with its password, and sees bob's earlier message
//     in the history, with bob as the sender;
//   - bob shows offline, then online while his `mqchat listen` runs, then
//     offline again when it ends; "bob is typing…" shows while
//     `mqchat typing` runs and goes away after;
//   - what carol sends reaches bob's `listen --json` with sender carol; what
//     bob sends with `mqchat send` shows on the page with sender bob;
//   - carol creates "Web corner" and writes in it; bob joins it with the CLI
//     and its history has carol's line;
//   - back in "Book club" (no password asked again) the history has all
//     three messages in order.
// A screenshot of the chat goes to $MQCHAT_SCREENSHOT.
//
// Environment: MQCHAT_SOURCE_DIR, MQCHAT_CLI, MQCHAT_PAGE_URL,
// MQCHAT_SCREENSHOT, MQCHAT_BROWSER_PID_FILE, MQCHAT_CHROMIUM (default
// /usr/bin/chromium), MQCHAT_HOME and MQCHAT_BROKER for the CLI.
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const { execFile, spawn } = require('node:child_process');

const source = process.env.MQCHAT_SOURCE_DIR;
const { chromium } = require(path.join(source, 'web', 'node_modules', 'playwright-core'));

const cli = process.env.MQCHAT_CLI;
const pageUrl = process.env.MQCHAT_PAGE_URL;
const screenshot = process.env.MQCHAT_SCREENSHOT;
const TEST_LIMIT_MS = 140000;

function step(text) {
    console.log(`web_chat_test: ${text}`);
}

// Runs the CLI to completion (bounded); resolves with its stdout.
function mqchat(args, env = {}) {
    return new Promise((resolve, reject) => {
        execFile(cli, args, { env: { ...process.env, ...env }, timeout: 30000 },
            (err, stdout, stderr) => {
                if (err) reject(new Error(`mqchat ${args.join(' ')}: ${err.message} ${stderr}`));
                else resolve(stdout);
            });
    });
}

// Starts the CLI in the background; `done` resolves with its output.
function mqchatBackground(args) {
    const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const done = new Promise((resolve) => {
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    return { child, done, stderr: () => stderr };
}

async function waitUntil(what, predicate, ms = 15000) {
    const start = Date.now();
    while (Date.now() - start < ms) {
        if (await predicate()) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
}

function check(condition, text) {
    if (!condition) throw new Error(`check failed: ${text}`);
}

// The message on the page whose text is exactly `text`; waits for it.
async function messageFrom(page, text) {
    const item = page.locator('#messages li.msg').filter({
        has: page.locator('.text', { hasText: new RegExp(`^${text}$`) }),
    });
    await item.first().waitFor({ state: 'visible' });
    check(await item.count() === 1, `"${text}" is shown once, not ${await item.count()} times`);
    return (await item.locator('.sender').textContent()).trim();
}

async function presenceOf(page, user, online) {
    const cls = online ? 'online' : 'offline';
    await page.locator(`#presence li.${cls}[data-user="${user}"]`).waitFor({ state: 'visible' });
}

async function run(browser) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    page.setDefaultTimeout(15000);
    const pageErrors = [];
    const foreign = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    // Same origin only: the page, its files, its WebSocket, and the blob:
    // URL of the timer worker MQTT.js makes from its own code.
    const wsUrl = pageUrl.replace(/^http/, 'ws');
    const ours = (url) => [pageUrl, wsUrl, `blob:${pageUrl}`].some((u) => url.startsWith(u));
    page.on('request', (req) => {
        if (!ours(req.url())) foreign.push(req.url());
    });
    page.on('websocket', (ws) => {
        if (!ours(ws.url())) foreign.push(ws.url());
    });

    step(`opening ${pageUrl}`);
    const response = await page.goto(pageUrl);
    check(response.ok(), `GET ${pageUrl} answered ${response.status()}`);
    check(await page.title() === 'mqchat', 'the page title is mqchat');
    check(await page.evaluate(() => typeof mqtt === 'object' && typeof mqtt.connect === 'function'),
        'MQTT.js (vendor/mqtt.min.js) loaded');

    step('carol registers and logs in');
    await page.fill('#login-user', 'carol');
    await page.fill('#login-password', 'carol-pw');
    await page.click('#register-button');
    await page.locator('#notice', { hasText: 'Registered carol' }).waitFor();
    await page.click('#login-button');
    await page.locator('#rooms-view').waitFor({ state: 'visible' });
    check((await page.textContent('#status')).includes('carol · connected'),
        'the status line says carol is connected');

    step('the room list shows bob\'s room; carol joins it with its password');
    const bookClub = page.locator('#rooms li[data-room="Book club"]');
    await bookClub.waitFor();
    check((await bookClub.locator('.meta').textContent()).includes('owner bob'),
        'Book club is listed with owner bob');
    await bookClub.locator('input[type=password]').fill('books');
    await bookClub.locator('button', { hasText: 'Join' }).click();
    await page.locator('#room-view').waitFor({ state: 'visible' });
    check(await page.textContent('#room-title') === 'Book club', 'the room title is Book club');

    step('history on entering: bob\'s earlier message, sent by bob');
    check(await messageFrom(page, 'welcome to the book club') === 'bob',
        'the history message shows bob as its sender');

    step('presence: carol online, bob offline, then online while he listens');
    await presenceOf(page, 'carol', true);
    await presenceOf(page, 'bob', false);
    const listen = mqchatBackground(['--user', 'bob', '--json', 'listen', 'Book club',
        '--history', '0', '--count', '1', '--timeout', '60']);
    await waitUntil('bob listening', () => listen.stderr().includes('listening'));
    await presenceOf(page, 'bob', true);

    step('typing: bob types in the CLI');
    const typing = mqchatBackground(['--user', 'bob', 'typing', 'Book club', '--for', '2']);
    await page.locator('#typing', { hasText: 'bob is typing…' }).waitFor();
    const typed = await typing.done;
    check(typed.code === 0, `mqchat typing exited ${typed.code}: ${typed.stderr}`);
    await waitUntil('the typing line to clear', async () =>
        (await page.textContent('#typing')).trim() === '', 8000);

    step('carol sends; bob\'s listen --json gets it from carol');
    await page.fill('#send-text', 'hello from the browser');
    await page.click('#send-button');
    check(await messageFrom(page, 'hello from the browser') === 'carol',
        'carol\'s own message shows carol as its sender');
    check(await page.inputValue('#send-text') === '', 'the input is empty after sending');
    const heard = await listen.done;
    check(heard.code === 0, `bob's listen exited ${heard.code}: ${heard.stderr}`);
    const lines = heard.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    check(lines.length === 1, `bob's listen printed one message, not ${lines.length}`);
    check(lines[0].sender === 'carol' && lines[0].text === 'hello from the browser' &&
        lines[0].room === 'Book club', `bob got carol's message: ${JSON.stringify(lines[0])}`);

    step('bob\'s listen ended: he shows offline again');
    await presenceOf(page, 'bob', false);

    step('bob sends with the CLI; the page shows it from bob');
    await mqchat(['--user', 'bob', 'send', 'Book club', 'hello from the cli']);
    check(await messageFrom(page, 'hello from the cli') === 'bob',
        'the CLI message shows bob as its sender');
    await page.screenshot({ path: screenshot });
    step(`screenshot saved to ${screenshot}`);

    step('carol creates "Web corner" and writes in it; bob joins and reads it');
    await page.click('#back');
    await page.locator('#rooms-view').waitFor({ state: 'visible' });
    await page.fill('#create-name', 'Web corner');
    await page.fill('#create-password', 'corner-pw');
    await page.fill('#create-description', 'made in a browser');
    await page.click('#create-button');
    await page.locator('#room-title', { hasText: 'Web corner' }).waitFor();
    await presenceOf(page, 'carol', true);
    await page.fill('#send-text', 'first words in the corner');
    await page.press('#send-text', 'Enter');
    check(await messageFrom(page, 'first words in the corner') === 'carol',
        'carol\'s message in her own room shows carol');
    await mqchat(['--user', 'bob', 'join', 'Web corner'], { MQCHAT_ROOM_PASSWORD: 'corner-pw' });
    const history = (await mqchat(['--user', 'bob', '--json', 'history', 'Web corner']))
        .trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    check(history.length === 1 && history[0].sender === 'carol' &&
        history[0].text === 'first words in the corner',
        `bob reads carol's line in Web corner: ${JSON.stringify(history)}`);
    await presenceOf(page, 'bob', false);  // he joined: a member, not online

    step('back in Book club without a password: the whole history, in order');
    await page.click('#back');
    const again = page.locator('#rooms li[data-room="Book club"]');
    await again.locator('button', { hasText: 'Enter' }).click();
    await page.locator('#room-title', { hasText: 'Book club' }).waitFor();
    await page.locator('#messages li.msg').nth(2).waitFor();
    const shown = await page.$$eval('#messages li.msg', (items) => items.map((li) => [
        li.querySelector('.sender').textContent, li.querySelector('.text').textContent,
        Number(li.dataset.seq)]));
    const want = [['bob', 'welcome to the book club'], ['carol', 'hello from the browser'],
        ['bob', 'hello from the cli']];
    check(JSON.stringify(shown.map(([s, t]) => [s, t])) === JSON.stringify(want),
        `Book club history is ${JSON.stringify(shown)}`);
    check(shown.every(([, , seq], i) => i === 0 || seq > shown[i - 1][2]), 'seq increases');

    check(pageErrors.length === 0, `no script errors on the page: ${pageErrors.join('; ')}`);
    check(foreign.length === 0, `nothing loaded from elsewhere: ${foreign.join(' ')}`);
}

async function main() {
    // A browser server, so its pid is known: web_chat_test.sh kills its
    // process group should this script itself be killed.
    const server = await chromium.launchServer({
        executablePath: process.env.MQCHAT_CHROMIUM || '/usr/bin/chromium',
        headless: true,
        // Root in a container: no sandbox. No background traffic to Google
        // (updates, metrics, sync), so the test talks to the broker only.
        args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--disable-default-apps', '--no-first-run',
            '--disable-dev-shm-usage', '--disable-breakpad', '--disable-features=Translate'],
        timeout: 30000,
    });
    const pid = server.process().pid;
    if (process.env.MQCHAT_BROWSER_PID_FILE) {
        fs.writeFileSync(process.env.MQCHAT_BROWSER_PID_FILE, `${pid}\n`);
    }
    let timer;
    try {
        const browser = await chromium.connect(server.wsEndpoint());
        step(`chromium ${browser.version()} started (pid ${pid})`);
        await Promise.race([
            run(browser),
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error('over the time limit')), TEST_LIMIT_MS);
            }),
        ]);
        await browser.close().catch(() => {});
    } finally {
        clearTimeout(timer);
        await server.close().catch(() => {});
    }
}

main().then(() => {
    step('passed');
    process.exit(0);
}, (err) => {
    console.error(`FAIL: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
});
