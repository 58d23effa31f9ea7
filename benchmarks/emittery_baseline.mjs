// Emittery on Node: the baseline benchmarks/emit.py compares tidings with.
// Prints one JSON object: microseconds per awaited emit, per case.
// Run `npm install --prefix benchmarks` first (benchmarks/emit.py does it when needed).
import Emittery from 'emittery';

const N = Number(process.argv[2] ?? 200000);
const ROUNDS = Number(process.argv[3] ?? 5); // benchmarks/emit.py runs one per round of its own

async function perEmit(listeners, serial) {
	const emitter = new Emittery();
	for (let i = 0; i < listeners; i++) {
		emitter.on('e', async () => {});
	}
	const emit = serial ? (i) => emitter.emitSerial('e', i) : (i) => emitter.emit('e', i);
	for (let i = 0; i < N / 10; i++) await emit(i); // warm up the JIT
	const start = process.hrtime.bigint();
	for (let i = 0; i < N; i++) await emit(i);
	return Number(process.hrtime.bigint() - start) / 1000 / N;
}

async function bareAwait() {
	const listener = async () => {};
	for (let i = 0; i < N / 10; i++) await listener(i);
	const start = process.hrtime.bigint();
	for (let i = 0; i < N; i++) await listener(i);
	return Number(process.hrtime.bigint() - start) / 1000 / N;
}

// Best of several rounds: the machine is shared, the minimum is the least disturbed figure.
// One unmeasured round first, so a process asked for one round measures a warm JIT too.
async function best(fn) {
	await fn();
	let min = Infinity;
	for (let round = 0; round < ROUNDS; round++) min = Math.min(min, await fn());
	return min;
}

const result = {
	emit_1: await best(() => perEmit(1, false)),
	emit_10: await best(() => perEmit(10, false)),
	emit_serial_10: await best(() => perEmit(10, true)),
	bare_await: await best(bareAwait),
};
console.log(JSON.stringify(result));
