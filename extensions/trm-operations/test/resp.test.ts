import { describe, expect, it } from 'vitest';
import { encodeCommand, parseRedisUrl, parseReply, sendCommands } from '../src/shared/resp';

describe('RESP', () => {
	it('encodes commands as arrays of bulk strings, counting UTF-8 bytes', () => {
		expect(encodeCommand(['XADD', 's', '*', 'reason', 'né']).toString()).toBe('*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$6\r\nreason\r\n$3\r\nné\r\n');
	});
	it.each<[string, unknown]>([
		['+OK\r\n', 'OK'],
		[':42\r\n', 42],
		['$-1\r\n', null],
		['$15\r\n1764290000000-0\r\n', '1764290000000-0'],
		['*2\r\n$1\r\na\r\n*1\r\n:1\r\n', ['a', [1]]],
	])('parses %j', (wire, value) => {
		expect(parseReply(Buffer.from(wire))?.[0]).toEqual(value);
	});
	it('parses errors as Error values', () => {
		const r = parseReply(Buffer.from('-NOAUTH Authentication required.\r\n'));
		expect(r?.[0]).toBeInstanceOf(Error);
	});
	it('asks for more bytes on a partial reply', () => {
		expect(parseReply(Buffer.from('$10\r\nabc'))).toBeNull();
		expect(parseReply(Buffer.from('*2\r\n:1\r\n'))).toBeNull();
	});
	it('reads host, port, credentials and database from a redis:// URL', () => {
		expect(parseRedisUrl('redis://127.0.0.1:6390')).toEqual({ host: '127.0.0.1', port: 6390, username: null, password: null, db: 0 });
		expect(parseRedisUrl('redis://u:p%40ss@h/2')).toEqual({ host: 'h', port: 6379, username: 'u', password: 'p@ss', db: 2 });
		expect(() => parseRedisUrl('rediss://h')).toThrow(/only redis/);
	});
});

describe('a Redis that closes the connection before answering', () => {
	it('rejects instead of waiting forever (Redis stopped during a blocking read)', async () => {
		const { createServer } = await import('node:net');
		const server = createServer((socket) => socket.destroy());
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const port = (server.address() as { port: number }).port;
		try {
			await expect(sendCommands(`redis://127.0.0.1:${port}`, [['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '2000', 'STREAMS', 's', '>']], 10000)).rejects.toThrow(
				'closed the connection before answering',
			);
		} finally {
			server.close();
		}
	});
});

describe('a long-lived connection', () => {
	it('answers pipelined calls in order, and fails the calls in flight when Redis hangs up, then reconnects', async () => {
		const { createServer } = await import('node:net');
		let connections = 0;
		const server = createServer((socket) => {
			connections += 1;
			let seen = '';
			socket.on('data', (d) => {
				seen += d.toString();
				if (seen.includes('HANGUP')) return void socket.destroy();
				const pings = (seen.match(/PING/g) ?? []).length;
				if (pings === 2) socket.write('+ONE\r\n+TWO\r\n'); // both replies in one chunk
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const { RedisConnection } = await import('../src/shared/resp');
		const redis = new RedisConnection(`redis://127.0.0.1:${(server.address() as { port: number }).port}`, 2000);
		try {
			expect(await Promise.all([redis.call(['PING']), redis.call(['PING'])])).toEqual(['ONE', 'TWO']);
			await expect(redis.call(['HANGUP'])).rejects.toThrow('closed the connection');
			expect(await Promise.all([redis.call(['PING']), redis.call(['PING'])])).toEqual(['ONE', 'TWO']);
			expect(connections).toBe(2);
		} finally {
			redis.close();
			server.close();
		}
	});
});
