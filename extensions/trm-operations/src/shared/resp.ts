/**
 * A minimal Redis client (RESP2 over node:net) for what the operations need: XADD to streams, GET a
 * session key, read a consumer group, each with a hard timeout so a Redis that is down never holds a
 * request. One connection per call: a short-lived connection needs no reconnect logic (on loopback
 * it costs about a millisecond).
 */
import { connect, type Socket } from 'node:net';

export type Reply = string | number | null | Reply[] | Error;

export function encodeCommand(args: readonly string[]): Buffer {
	const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
	for (const arg of args) {
		const b = Buffer.from(arg, 'utf8');
		parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
	}
	return Buffer.concat(parts);
}

/** One reply from `buf` at `offset`: [reply, next offset], or null when more bytes are needed. */
export function parseReply(buf: Buffer, offset = 0): [Reply, number] | null {
	const eol = buf.indexOf('\r\n', offset);
	if (eol < 0) return null;
	const type = String.fromCharCode(buf[offset] ?? 0);
	const line = buf.toString('utf8', offset + 1, eol);
	const next = eol + 2;
	switch (type) {
		case '+':
			return [line, next];
		case '-':
			return [new Error(line), next];
		case ':':
			return [Number(line), next];
		case '$': {
			const len = Number(line);
			if (len < 0) return [null, next];
			if (buf.length < next + len + 2) return null;
			return [buf.toString('utf8', next, next + len), next + len + 2];
		}
		case '*': {
			const n = Number(line);
			if (n < 0) return [null, next];
			const items: Reply[] = [];
			let at = next;
			for (let i = 0; i < n; i++) {
				const r = parseReply(buf, at);
				if (!r) return null;
				items.push(r[0]);
				at = r[1];
			}
			return [items, at];
		}
		default:
			throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
	}
}

export interface RedisTarget {
	host: string;
	port: number;
	password: string | null;
	username: string | null;
	db: number;
}

/** redis://[[user]:password@]host[:port][/db] */
export function parseRedisUrl(url: string): RedisTarget {
	const u = new URL(url);
	if (u.protocol !== 'redis:') throw new Error(`only redis:// URLs are supported, not ${u.protocol}`);
	const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
	return {
		host: u.hostname || '127.0.0.1',
		port: u.port ? Number(u.port) : 6379,
		username: u.username ? decodeURIComponent(u.username) : null,
		password: u.password ? decodeURIComponent(u.password) : null,
		db: Number.isInteger(db) ? db : 0,
	};
}

/** Send the commands (AUTH/SELECT first when the URL asks) and return the last reply; rejects on a Redis error. */
export function sendCommands(url: string, commands: readonly (readonly string[])[], timeoutMs = 1000): Promise<Reply> {
	const target = parseRedisUrl(url);
	const all: (readonly string[])[] = [];
	if (target.password !== null) all.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
	if (target.db !== 0) all.push(['SELECT', String(target.db)]);
	all.push(...commands);
	return new Promise((resolve, reject) => {
		const socket = connect({ host: target.host, port: target.port });
		let buf = Buffer.alloc(0);
		let settled = false;
		const replies: Reply[] = [];
		const fail = (err: Error): void => {
			settled = true;
			socket.destroy();
			reject(err);
		};
		// Redis stopping closes the connection without an error event: without this, a blocking read
		// (XREADGROUP … BLOCK) would wait forever and the reply consumer would never read again.
		socket.on('close', () => {
			if (!settled) fail(new Error(`redis ${target.host}:${target.port} closed the connection before answering`));
		});
		socket.setTimeout(timeoutMs, () => fail(new Error(`redis ${target.host}:${target.port} did not answer within ${timeoutMs} ms`)));
		socket.on('error', fail);
		socket.on('connect', () => socket.write(Buffer.concat(all.map(encodeCommand))));
		socket.on('data', (chunk: Buffer) => {
			buf = Buffer.concat([buf, chunk]);
			let parsed = parseReply(buf);
			while (parsed) {
				replies.push(parsed[0]);
				buf = buf.subarray(parsed[1]);
				parsed = buf.length > 0 ? parseReply(buf) : null;
			}
			if (replies.length >= all.length) {
				settled = true;
				socket.end();
				const error = replies.find((r): r is Error => r instanceof Error);
				if (error) reject(new Error(`redis: ${error.message}`));
				else resolve(replies[replies.length - 1] ?? null);
			}
		});
	});
}

interface Pending {
	resolve: (r: Reply) => void;
	reject: (e: Error) => void;
	timer: ReturnType<typeof setTimeout>;
	silent: boolean; // AUTH/SELECT of a (re)connect: its reply is consumed here
}

/**
 * One long-lived connection for frequent calls (device commands: a GET and an XADD per command, an
 * XACK per reply; a blocking read in a loop). Commands are pipelined in order; replies come back in
 * order. Any error, timeout or close fails every call in flight and drops the connection: the next
 * call connects again (with AUTH/SELECT from the URL). A call never waits longer than its timeout.
 */
export class RedisConnection {
	private socket: Socket | null = null;
	private buf: Buffer = Buffer.alloc(0);
	private pending: Pending[] = [];
	private readonly target: RedisTarget;

	constructor(url: string, private readonly timeoutMs = 1000) {
		this.target = parseRedisUrl(url);
	}

	call(args: readonly string[], timeoutMs = this.timeoutMs): Promise<Reply> {
		if (!this.socket) this.open();
		return new Promise((resolve, reject) => this.send(args, resolve, reject, timeoutMs, false));
	}

	close(): void {
		this.drop(new Error('redis connection closed'));
	}

	private open(): void {
		const { host, port, password, username, db } = this.target;
		const socket = connect({ host, port });
		socket.setNoDelay(true);
		this.socket = socket;
		this.buf = Buffer.alloc(0);
		socket.on('error', (e) => this.drop(e, socket));
		socket.on('close', () => this.drop(new Error(`redis ${host}:${port} closed the connection`), socket));
		socket.on('data', (chunk: Buffer) => this.receive(chunk));
		const noop = (): void => undefined;
		if (password !== null) this.send(username ? ['AUTH', username, password] : ['AUTH', password], noop, noop, this.timeoutMs, true);
		if (db !== 0) this.send(['SELECT', String(db)], noop, noop, this.timeoutMs, true);
	}

	private send(args: readonly string[], resolve: (r: Reply) => void, reject: (e: Error) => void, timeoutMs: number, silent: boolean): void {
		const socket = this.socket!;
		const timer = setTimeout(() => this.drop(new Error(`redis ${this.target.host}:${this.target.port} did not answer within ${timeoutMs} ms`), socket), timeoutMs);
		this.pending.push({ resolve, reject, timer, silent });
		socket.write(encodeCommand(args));
	}

	private receive(chunk: Buffer): void {
		this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
		let parsed = parseReply(this.buf);
		while (parsed) {
			this.buf = this.buf.subarray(parsed[1]);
			const p = this.pending.shift();
			if (p) {
				clearTimeout(p.timer);
				const reply = parsed[0];
				if (reply instanceof Error) {
					if (p.silent) return this.drop(new Error(`redis: ${reply.message}`)); // AUTH refused: nothing works
					p.reject(new Error(`redis: ${reply.message}`));
				} else p.resolve(reply);
			}
			parsed = this.buf.length > 0 ? parseReply(this.buf) : null;
		}
	}

	private drop(err: Error, which: Socket | null = this.socket): void {
		if (which !== this.socket) return; // an old connection's late event
		this.socket?.destroy();
		this.socket = null;
		for (const p of this.pending.splice(0)) {
			clearTimeout(p.timer);
			p.reject(err);
		}
	}
}
