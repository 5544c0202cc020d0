// mqchat web chat page: register, log in, find, create and join rooms, read
// history, see who is online and who is typing, and chat. It speaks the wire
// protocol of docs/protocol.md directly, over MQTT v5 on WebSockets with
// MQTT.js (the global `mqtt` from vendor/mqtt.min.js), to the broker that
// served this page.
//
// Connections, as the C++ client library makes them:
//   - a guest connection (no username, client id "guest:<16 hex>") for
//     register and login, replies on chat/v1/guest/<client id>/<32 hex>;
//   - then one user connection (username = user, password = session token,
//     client id "<user>:<16 hex>") for everything else, replies on
//     chat/v1/users/<user>/inbox/web-<16 hex>.
//
// Known shortcomings: the session token and the join tokens live in this
// tab's sessionStorage (readable by any script of this origin, gone when the
// tab closes), so a member opening the page in a new tab types the room
// password again (join tokens are kept per user; logging out forgets only
// the session); history shows the newest 50 messages on entering, with no
// way to scroll further back yet; a session that expires while the page is
// open sends the person back to the login form.
'use strict';

(() => {
    const PREFIX = 'chat/v1/';
    const CONTROL = '$CONTROL/mqchat/v1';
    const REQUEST_TIMEOUT_MS = 10000;
    const RECONNECT_MS = 3000;
    const HISTORY_ON_ENTER = 50;
    const MAX_TEXT_BYTES = 8 * 1024;
    // Typing, as docs/protocol.md "Typing indicators" and the client library:
    // "true" holds 6 s at the receiver, refreshed every 3 s, at most one
    // indicator a second, and "false" after 5 s without a keystroke.
    const TYPING_TTL_MS = 6000;
    const TYPING_REFRESH_MS = 3000;
    const TYPING_MIN_GAP_MS = 1000;
    const TYPING_IDLE_MS = 5000;
    const STORAGE_KEY = 'mqchat';

    const $ = (id) => document.getElementById(id);
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();

    // ---------------------------------------------------------------------
    // Small helpers
    // ---------------------------------------------------------------------

    function randomHex(bytes) {
        const buf = new Uint8Array(bytes);
        crypto.getRandomValues(buf);
        return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
    }

    // The broker that served the page (same host and port: the WebSocket
    // listener serves both), unless ?broker=ws://host:port names another.
    function brokerUrl() {
        const given = new URLSearchParams(location.search).get('broker');
        if (given) return given;
        const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
        return `${scheme}//${location.host}/mqtt`;
    }

    // An error with one of the stable codes of docs/protocol.md.
    class ChatError extends Error {
        constructor(code, message) {
            super(message);
            this.code = code;
        }
    }

    function describe(err) {
        if (err instanceof ChatError) return `${err.code}: ${err.message}`;
        return String(err && err.message ? err.message : err);
    }

    // MQTT v5 user properties arrive as strings, or arrays when repeated.
    function userProperty(packet, name) {
        const props = packet && packet.properties && packet.properties.userProperties;
        if (!props || props[name] === undefined) return undefined;
        const value = props[name];
        return Array.isArray(value) ? value[value.length - 1] : value;
    }

    function parseJson(payload) {
        try {
            return JSON.parse(decoder.decode(payload));
        } catch (e) {
            return undefined;
        }
    }

    function showNotice(text, kind) {
        const notice = $('notice');
        notice.textContent = text;
        notice.className = kind || '';
        notice.hidden = !text;
    }

    function showError(err) {
        showNotice(describe(err));
    }

    function showView(name) {
        for (const view of ['login-view', 'rooms-view', 'room-view']) {
            $(view).hidden = view !== name;
        }
        $('logout').hidden = name === 'login-view';
    }

    function setStatus(text) {
        $('status').textContent = text;
    }

    function formatTime(ms) {
        const date = new Date(Number(ms));
        return Number.isFinite(date.getTime())
            ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
    }

    // ---------------------------------------------------------------------
    // MQTT: connections and request/response
    // ---------------------------------------------------------------------

    // Opens an MQTT v5 connection and resolves once the broker accepted it.
    // No automatic reconnect until the first CONNECT succeeded: a refused
    // login must fail, not retry forever.
    function connect(options) {
        return new Promise((resolve, reject) => {
            const client = mqtt.connect(brokerUrl(), Object.assign({
                protocolVersion: 5,
                clean: true,
                keepalive: 30,
                connectTimeout: REQUEST_TIMEOUT_MS,
                reconnectPeriod: 0,
            }, options));
            let settled = false;
            const fail = (err) => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                client.end(true);
                reject(new ChatError('connect_failed', `the broker refused or could not be ` +
                    `reached (${err && err.message ? err.message : err})`));
            };
            const timer = setTimeout(() => fail('no answer'), REQUEST_TIMEOUT_MS);
            client.once('connect', () => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                client.removeListener('error', fail);
                client.removeListener('close', onClose);
                resolve(client);
            });
            const onClose = () => fail('connection closed');
            client.once('error', fail);
            client.once('close', onClose);
        });
    }

    // Control requests on one connection: a QoS 1 publish to chat/v1/ctl/<op>
    // with a Response Topic the connection reads and Correlation Data that
    // pairs each reply with its request.
    class Requests {
        constructor(client, replyTopic) {
            this.client = client;
            this.replyTopic = replyTopic;
            this.pending = new Map();
            client.on('message', (topic, payload, packet) => {
                if (topic === this.replyTopic) this.onReply(payload, packet);
            });
        }

        // Subscribes to the reply topic; the broker refuses any other.
        async open() {
            await this.client.subscribeAsync(this.replyTopic, { qos: 1 });
        }

        onReply(payload, packet) {
            const data = packet.properties && packet.properties.correlationData;
            const id = data ? decoder.decode(data) : '';
            const waiter = this.pending.get(id);
            if (!waiter) return;  // a late reply to a request that timed out
            this.pending.delete(id);
            clearTimeout(waiter.timer);
            const reply = parseJson(payload);
            if (reply && reply.ok === true) {
                waiter.resolve(reply);
                return;
            }
            const error = (reply && reply.error) || {};
            waiter.reject(new ChatError(error.code || 'internal_error',
                error.message || 'the request failed'));
        }

        // Resolves with the reply object when it says ok, rejects with a
        // ChatError carrying the reply's error code (or timeout) otherwise.
        request(op, body) {
            const id = randomHex(16);
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => {
                    this.pending.delete(id);
                    reject(new ChatError('timeout',
                        `no reply to ${op} in time (is the room manager running?)`));
                }, REQUEST_TIMEOUT_MS);
                this.pending.set(id, { resolve, reject, timer });
                const options = {
                    qos: 1,
                    properties: { responseTopic: this.replyTopic, correlationData: id },
                };
                this.client.publish(PREFIX + 'ctl/' + op, JSON.stringify(body), options,
                    (err) => {
                        if (!err) return;
                        clearTimeout(timer);
                        this.pending.delete(id);
                        reject(new ChatError('connect_failed', `request ${op}: ${err.message}`));
                    });
            });
        }
    }

    // register and login: a short-lived guest connection that subscribes to
    // its own exact reply topic and asks on the same connection.
    async function guestRequest(op, body) {
        const clientId = 'guest:' + randomHex(8);
        const client = await connect({ clientId });
        try {
            const requests = new Requests(client, `${PREFIX}guest/${clientId}/${randomHex(16)}`);
            await requests.open();
            return await requests.request(op, body);
        } finally {
            client.end(true);
        }
    }

    // ---------------------------------------------------------------------
    // State
    // ---------------------------------------------------------------------

    const state = {
        user: '',
        token: '',
        expires: 0,          // session token expiry, seconds since the epoch
        joinTokens: {},      // room id -> join token
        client: null,
        requests: null,
        room: null,          // metadata of the room on screen
        messages: new Map(), // seq -> {seq, sender, text, ts}
        shownSeq: 0,         // highest seq on screen
        presence: new Map(), // user -> {user, role, online, since}
        typists: new Map(),  // user -> expiry timer
    };

    // The session under one key; join tokens per user under another, so a
    // member who logs out and in again in this tab needs no room password.
    const joinsKey = (user) => `${STORAGE_KEY}:joins:${user}`;

    function readStorage(key) {
        try {
            return JSON.parse(sessionStorage.getItem(key) || 'null');
        } catch (e) {
            return null;
        }
    }

    function saveSession() {
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify({
            user: state.user, token: state.token, expires: state.expires,
        }));
        sessionStorage.setItem(joinsKey(state.user), JSON.stringify(state.joinTokens));
    }

    function loadSession() {
        const saved = readStorage(STORAGE_KEY);
        if (!saved || !saved.user || !saved.token) return false;
        // A token that expires within a minute is not worth connecting with.
        if (Number(saved.expires) * 1000 < Date.now() + 60000) return false;
        state.user = saved.user;
        state.token = saved.token;
        state.expires = Number(saved.expires);
        state.joinTokens = readStorage(joinsKey(state.user)) || {};
        return true;
    }

    // ---------------------------------------------------------------------
    // Accounts
    // ---------------------------------------------------------------------

    async function register(user, password) {
        await guestRequest('register', { user, password });
        showNotice(`Registered ${user}. Log in now.`, 'info');
    }

    async function login(user, password) {
        const reply = await guestRequest('login', { user, password });
        state.user = reply.user;
        state.token = reply.token;
        state.expires = Number(reply.expires);
        state.joinTokens = readStorage(joinsKey(state.user)) || {};
        saveSession();
        await connectUser();
    }

    async function connectUser() {
        const client = await connect({
            clientId: `${state.user}:${randomHex(8)}`,
            username: state.user,
            password: state.token,
        });
        client.options.reconnectPeriod = RECONNECT_MS;
        state.client = client;
        state.requests = new Requests(client, `${PREFIX}users/${state.user}/inbox/web-` +
            randomHex(8));
        client.on('message', onRoomTraffic);
        client.on('connect', () => onReconnected().catch(showError));
        client.on('offline', () => setStatus(`${state.user} · offline, reconnecting…`));
        client.on('error', (err) => {
            // 134 bad user name or password, 135 not authorized: the session
            // token is no longer accepted; retrying would not help.
            if (err && (err.code === 134 || err.code === 135)) {
                logout();
                showNotice('The session ended; log in again.');
            }
        });
        await state.requests.open();
        setStatus(`${state.user} · connected`);
        showNotice('');
        showView('rooms-view');
        await loadRooms();
    }

    // MQTT.js subscribes again by itself after a reconnect; the room's token
    // is presented again anyway (harmless, and needed should the broker have
    // forgotten the admission) and history fills what was missed meanwhile.
    async function onReconnected() {
        setStatus(`${state.user} · connected`);
        if (!state.room) return;
        await present(state.room.id);
        await catchUp();
    }

    function logout() {
        leaveRoomView();
        if (state.client) state.client.end(true);
        state.client = null;
        state.requests = null;
        state.user = '';
        state.token = '';
        state.expires = 0;
        state.joinTokens = {};
        sessionStorage.removeItem(STORAGE_KEY);
        setStatus('not connected');
        showView('login-view');
    }

    // ---------------------------------------------------------------------
    // Rooms list, create, join
    // ---------------------------------------------------------------------

    async function loadRooms() {
        const match = $('search-match').value.trim();
        const reply = await state.requests.request('rooms', match ? { match } : {});
        renderRooms(reply.rooms || []);
        $('rooms-more').hidden = !reply.more;
    }

    function renderRooms(rooms) {
        const list = $('rooms');
        list.replaceChildren();
        if (rooms.length === 0) {
            const li = document.createElement('li');
            li.className = 'empty';
            li.textContent = 'No rooms yet: create one below.';
            list.append(li);
        }
        for (const room of rooms) {
            const li = document.createElement('li');
            li.dataset.room = room.name;
            const name = document.createElement('span');
            name.className = 'name';
            name.textContent = room.name;
            const meta = document.createElement('span');
            meta.className = 'meta';
            const facts = [`owner ${room.owner}`, `${room.members} members, ${room.online} online`];
            if (!room.listed) facts.push('unlisted');
            if (room.member) facts.push('you are a member');
            if (room.description) facts.push(room.description);
            meta.textContent = facts.join(' · ');
            li.append(name, meta);

            if (room.member && state.joinTokens[room.id]) {
                const enter = document.createElement('button');
                enter.type = 'button';
                enter.className = 'enter';
                enter.textContent = 'Enter';
                enter.addEventListener('click', () => enterRoom(room).catch(showError));
                li.append(enter);
            } else {
                // Not a member, or a member without this tab's join token:
                // the room password gets a fresh token.
                const form = document.createElement('form');
                form.className = 'row join';
                const password = document.createElement('input');
                password.type = 'password';
                password.placeholder = 'room password';
                password.autocomplete = 'off';
                const join = document.createElement('button');
                join.type = 'submit';
                join.textContent = 'Join';
                form.append(password, join);
                form.addEventListener('submit', (event) => {
                    event.preventDefault();
                    joinRoom(room.name, password.value).catch(showError);
                });
                li.append(form);
            }
            list.append(li);
        }
    }

    async function createRoom(name, password, description, listed) {
        const body = { room: name, password, listed };
        if (description) body.description = description;
        const reply = await state.requests.request('create', body);
        rememberJoin(reply);
        await enterRoom(reply.room);
    }

    async function joinRoom(name, password) {
        const reply = await state.requests.request('join', { room: name, password });
        rememberJoin(reply);
        await enterRoom(reply.room);
    }

    function rememberJoin(reply) {
        state.joinTokens[reply.room.id] = reply.token;
        saveSession();
    }

    // ---------------------------------------------------------------------
    // Inside a room
    // ---------------------------------------------------------------------

    const roomTopic = (id, leaf) => `${PREFIX}rooms/${id}/${leaf}`;

    // Admission: the broker lets this connection read and write the room once
    // it has seen a valid join token for it on $CONTROL/mqchat/v1.
    async function present(roomId) {
        const token = state.joinTokens[roomId];
        if (!token) throw new ChatError('not_joined', 'no join token for this room');
        await state.client.publishAsync(CONTROL, JSON.stringify({ op: 'present', token }),
            { qos: 1 });
    }

    async function enterRoom(room) {
        leaveRoomView();
        state.room = room;
        $('room-title').textContent = room.name;
        $('room-description').textContent = room.description || '';
        renderMessages();
        renderPresence();
        renderTyping();
        showNotice('');
        showView('room-view');

        await present(room.id);
        // Messages first, then history: a message sent in between arrives
        // live and history has it too; seq keeps it once on screen.
        try {
            await state.client.subscribeAsync(roomTopic(room.id, 'msg'), { qos: 1 });
        } catch (err) {
            delete state.joinTokens[room.id];
            saveSession();
            leaveRoomView();
            showView('rooms-view');
            await loadRooms();
            throw new ChatError('not_admitted',
                'the broker refused the room (token revoked or expired); join again');
        }
        // Presence and typing are extras: a refusal leaves the chat working.
        for (const leaf of ['presence/+', 'typing']) {
            const qos = leaf === 'typing' ? 0 : 1;
            state.client.subscribeAsync(roomTopic(room.id, leaf), { qos })
                .catch((err) => showNotice(`no ${leaf.split('/')[0]}: ${describe(err)}`));
        }
        const reply = await state.requests.request('history',
            { room: room.name, limit: HISTORY_ON_ENTER });
        if (state.room !== room) return;  // left meanwhile
        for (const m of reply.messages || []) addMessage(m);
        $('send-text').focus();
    }

    // Fetches every message after the last one on screen, page by page.
    async function catchUp() {
        const room = state.room;
        for (let pages = 0; pages < 20 && state.room === room; ++pages) {
            const reply = await state.requests.request('history',
                { room: room.name, after: state.shownSeq, limit: 500 });
            if (state.room !== room) return;
            for (const m of reply.messages || []) addMessage(m);
            if (!reply.more) return;
        }
    }

    function leaveRoomView() {
        const room = state.room;
        if (!room) return;
        stopTyping();
        state.room = null;
        for (const timer of state.typists.values()) clearTimeout(timer);
        state.typists.clear();
        state.messages.clear();
        state.shownSeq = 0;
        state.presence.clear();
        if (state.client) {
            state.client.unsubscribe(['msg', 'presence/+', 'typing'].map(
                (leaf) => roomTopic(room.id, leaf)));
        }
    }

    function onRoomTraffic(topic, payload, packet) {
        const room = state.room;
        if (!room) return;
        if (topic === roomTopic(room.id, 'msg')) {
            const body = parseJson(payload);
            const seq = Number(userProperty(packet, 'seq'));
            // Anything but {"id", "text"} is malformed: skipped, like the
            // client library does.
            if (!body || typeof body.text !== 'string' || !Number.isInteger(seq)) return;
            const sender = userProperty(packet, 'sender') || '';
            addMessage({ seq, sender, text: body.text, ts: Number(userProperty(packet, 'ts')) });
            dropTypist(sender);
        } else if (topic.startsWith(roomTopic(room.id, 'presence/'))) {
            const user = topic.slice(roomTopic(room.id, 'presence/').length);
            const body = payload.length ? parseJson(payload) : undefined;
            // An empty retained message clears the member: left, kicked,
            // banned, or the room was deleted.
            if (body && typeof body === 'object') state.presence.set(user, body);
            else state.presence.delete(user);
            renderPresence();
        } else if (topic === roomTopic(room.id, 'typing')) {
            const body = parseJson(payload);
            const sender = userProperty(packet, 'sender');
            if (!body || !sender || sender === state.user) return;
            if (body.typing === true) {
                clearTimeout(state.typists.get(sender));
                state.typists.set(sender, setTimeout(() => dropTypist(sender), TYPING_TTL_MS));
                renderTyping();
            } else {
                dropTypist(sender);
            }
        }
    }

    function addMessage(m) {
        if (m.malformed || typeof m.text !== 'string' || state.messages.has(m.seq)) return;
        state.messages.set(m.seq, m);
        const list = $('messages');
        if (m.seq > state.shownSeq) {
            list.append(messageItem(m));
            state.shownSeq = m.seq;
        } else {
            renderMessages();  // an older one (history after live): keep seq order
        }
        list.scrollTop = list.scrollHeight;
    }

    function messageItem(m) {
        const li = document.createElement('li');
        li.className = 'msg' + (m.sender === state.user ? ' mine' : '');
        li.dataset.seq = String(m.seq);
        const time = document.createElement('span');
        time.className = 'time';
        time.textContent = formatTime(m.ts);
        const sender = document.createElement('span');
        sender.className = 'sender';
        sender.textContent = m.sender;
        const text = document.createElement('span');
        text.className = 'text';
        text.textContent = m.text;
        li.append(time, sender, text);
        return li;
    }

    function renderMessages() {
        const sorted = [...state.messages.values()].sort((a, b) => a.seq - b.seq);
        $('messages').replaceChildren(...sorted.map(messageItem));
        state.shownSeq = sorted.length ? sorted[sorted.length - 1].seq : 0;
    }

    function renderPresence() {
        const members = [...state.presence.values()].sort((a, b) =>
            (b.online === true) - (a.online === true) || String(a.user).localeCompare(b.user));
        $('presence').replaceChildren(...members.map((p) => {
            const li = document.createElement('li');
            li.dataset.user = p.user;
            li.className = p.online ? 'online' : 'offline';
            const role = document.createElement('span');
            role.className = 'role';
            role.textContent = p.role === 'owner' ? '(owner)' : '';
            const stateText = document.createElement('span');
            stateText.className = 'state';
            stateText.textContent = p.online ? 'online' : `offline since ${formatTime(p.since)}`;
            li.append(document.createTextNode(p.user), role, stateText);
            return li;
        }));
    }

    function dropTypist(user) {
        if (!state.typists.has(user)) return;
        clearTimeout(state.typists.get(user));
        state.typists.delete(user);
        renderTyping();
    }

    function renderTyping() {
        const names = [...state.typists.keys()].sort();
        $('typing').textContent = names.length === 0 ? ''
            : names.length === 1 ? `${names[0]} is typing…`
                : `${names.join(', ')} are typing…`;
    }

    // ---------------------------------------------------------------------
    // Sending: messages and this person's typing indicator
    // ---------------------------------------------------------------------

    async function sendMessage(text) {
        if (encoder.encode(text).length > MAX_TEXT_BYTES) {
            throw new ChatError('bad_request', 'a message is at most 8 KiB');
        }
        const room = state.room;
        wantTyping(false);
        // The message shows when the broker hands it back, numbered.
        await state.client.publishAsync(roomTopic(room.id, 'msg'),
            JSON.stringify({ id: randomHex(16), text }), { qos: 1 });
    }

    const typingOut = { want: false, sent: false, lastAt: 0, timer: null, idle: null };

    // Called on every keystroke (true) and when the input empties (false).
    function wantTyping(on) {
        typingOut.want = on;
        clearTimeout(typingOut.idle);
        if (on) typingOut.idle = setTimeout(() => wantTyping(false), TYPING_IDLE_MS);
        flushTyping();
    }

    function flushTyping() {
        if (typingOut.timer || !state.room || !state.client) return;
        const now = Date.now();
        const refresh = typingOut.want && typingOut.sent &&
            now - typingOut.lastAt >= TYPING_REFRESH_MS;
        if (typingOut.want === typingOut.sent && !refresh) return;
        const wait = typingOut.lastAt + TYPING_MIN_GAP_MS - now;
        if (wait > 0) {
            typingOut.timer = setTimeout(() => {
                typingOut.timer = null;
                flushTyping();
            }, wait);
            return;
        }
        publishTyping(typingOut.want);
    }

    function publishTyping(on) {
        typingOut.sent = on;
        typingOut.lastAt = Date.now();
        state.client.publish(roomTopic(state.room.id, 'typing'), JSON.stringify({ typing: on }),
            { qos: 0 });
        if (on) {
            typingOut.timer = setTimeout(() => {
                typingOut.timer = null;
                flushTyping();
            }, TYPING_REFRESH_MS);
        }
    }

    // Leaving the room: "false" at once if "true" was the last word.
    function stopTyping() {
        clearTimeout(typingOut.timer);
        clearTimeout(typingOut.idle);
        typingOut.timer = null;
        typingOut.want = false;
        if (typingOut.sent && state.room && state.client) publishTyping(false);
        typingOut.sent = false;
    }

    // ---------------------------------------------------------------------
    // Wiring
    // ---------------------------------------------------------------------

    // Runs an action for a form, with its buttons disabled meanwhile.
    function guarded(form, action) {
        return async (event) => {
            if (event) event.preventDefault();
            const buttons = form.querySelectorAll('button');
            buttons.forEach((b) => { b.disabled = true; });
            try {
                await action();
            } catch (err) {
                showError(err);
            } finally {
                buttons.forEach((b) => { b.disabled = false; });
            }
        };
    }

    function init() {
        if (typeof mqtt === 'undefined') {
            showNotice('vendor/mqtt.min.js is missing: run scripts/web-deps.sh on the server.');
            return;
        }
        const loginForm = $('login-form');
        const credentials = () => [$('login-user').value.trim(), $('login-password').value];
        loginForm.addEventListener('submit', guarded(loginForm, async () => {
            const [user, password] = credentials();
            await login(user, password);
            $('login-password').value = '';
        }));
        $('register-button').addEventListener('click', guarded(loginForm, async () => {
            if (!loginForm.reportValidity()) return;
            const [user, password] = credentials();
            await register(user, password);
        }));
        $('logout').addEventListener('click', () => {
            logout();
            showNotice('');
        });

        const searchForm = $('search-form');
        searchForm.addEventListener('submit', guarded(searchForm, loadRooms));

        const createForm = $('create-form');
        createForm.addEventListener('submit', guarded(createForm, async () => {
            await createRoom($('create-name').value.trim(), $('create-password').value,
                $('create-description').value.trim(), $('create-listed').checked);
            createForm.reset();
        }));

        $('back').addEventListener('click', () => {
            leaveRoomView();
            showNotice('');
            showView('rooms-view');
            loadRooms().catch(showError);
        });

        const sendForm = $('send-form');
        const input = $('send-text');
        sendForm.addEventListener('submit', guarded(sendForm, async () => {
            const text = input.value;
            if (!text.trim()) return;
            await sendMessage(text);
            input.value = '';
        }));
        input.addEventListener('input', () => wantTyping(input.value.length > 0));

        showView('login-view');
        if (loadSession()) {
            connectUser().catch((err) => {
                logout();
                showError(err);
            });
        }
    }

    init();
})();
