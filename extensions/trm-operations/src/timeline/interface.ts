/**
 * The entry's timeline in the admin UI: an interface on the presentation field `entries.timeline`
 * (no data), reading GET /trm/entries/:id/timeline as the signed-in user, newest or oldest first,
 * filtered by kind, 20 items a page. Plain render functions (no single-file components): the
 * extension type-checks with tsc like the rest of the bundle.
 */
import { defineInterface, useApi } from '@directus/extensions-sdk';
import { defineComponent, h, onMounted, ref, watch, type VNode } from 'vue';

interface Change {
	field: string;
	before: string | null;
	after: string | null;
}
interface Item {
	at: string;
	kind: string;
	action: string;
	what: string;
	who: { name: string | null; role: string | null } | null;
	changes: Change[];
}
interface Page {
	total: number;
	kinds: Record<string, number>;
	items: Item[];
}

const PAGE = 20;
const KIND_COLORS: Record<string, string> = {
	entry: '#6644FF',
	crew: '#3399FF',
	device: '#2ECDA7',
	penalty: '#E35169',
	start: '#FFA439',
	result: '#18222F',
	crossing: '#A2B5CD',
	'faulty-flag': '#E35169',
	'course-edit': '#FFC23B',
	command: '#3399FF',
};

const css = {
	bar: 'display:flex;gap:8px;align-items:center;margin-bottom:12px;flex-wrap:wrap',
	select: 'padding:4px 8px;border:var(--theme--border-width,2px) solid var(--theme--form--field--input--border-color,#d3dae4);border-radius:var(--theme--border-radius,6px);background:var(--theme--background);color:var(--theme--foreground)',
	button: 'padding:4px 10px;border:none;border-radius:var(--theme--border-radius,6px);background:var(--theme--primary-background,#f0ecff);color:var(--theme--primary,#6644ff);cursor:pointer',
	item: 'display:grid;grid-template-columns:170px 1fr;gap:4px 12px;padding:8px 0;border-top:1px solid var(--theme--border-color-subdued,#f0f4f9)',
	when: 'color:var(--theme--foreground-subdued);font-variant-numeric:tabular-nums',
	badge: 'display:inline-block;padding:0 6px;margin-right:6px;border-radius:4px;color:#fff;font-size:12px',
	who: 'color:var(--theme--foreground-subdued);font-size:13px',
	change: 'font-size:13px;color:var(--theme--foreground-subdued)',
};

const Timeline = defineComponent({
	name: 'TrmEntryTimeline',
	props: { primaryKey: { type: [String, Number], default: null } },
	setup(props) {
		const api = useApi();
		const page = ref<Page | null>(null);
		const error = ref<string | null>(null);
		const loading = ref(false);
		const order = ref<'desc' | 'asc'>('desc');
		const kind = ref('');
		const offset = ref(0);

		async function load(): Promise<void> {
			if (!props.primaryKey || props.primaryKey === '+') return;
			loading.value = true;
			error.value = null;
			try {
				const params: Record<string, string | number> = { order: order.value, limit: PAGE, offset: offset.value };
				if (kind.value) params['kind'] = kind.value;
				const res = await api.get(`/trm/entries/${props.primaryKey}/timeline`, { params });
				page.value = res.data.data as Page;
			} catch (e) {
				const err = e as { response?: { data?: { errors?: { message?: string }[] } }; message?: string };
				error.value = err.response?.data?.errors?.[0]?.message ?? err.message ?? String(e);
			} finally {
				loading.value = false;
			}
		}
		onMounted(load);
		watch(() => props.primaryKey, load);
		watch([order, kind], () => {
			offset.value = 0;
			void load();
		});

		const row = (i: Item): VNode =>
			h('div', { class: 'trm-timeline-item', style: css.item }, [
				h('div', { style: css.when }, new Date(i.at).toLocaleString()),
				h('div', [
					h('div', [h('span', { style: `${css.badge};background:${KIND_COLORS[i.kind] ?? '#A2B5CD'}` }, i.kind), i.what]),
					h('div', { style: css.who }, i.who ? `by ${i.who.name ?? 'someone'}${i.who.role ? ` (${i.who.role})` : ''}` : 'by the system'),
					...i.changes
						.filter((c) => c.before !== null)
						.map((c) => h('div', { style: css.change }, `${c.field}: ${c.before ?? '—'} → ${c.after ?? '—'}`)),
				]),
			]);

		return () => {
			if (!props.primaryKey || props.primaryKey === '+') return h('div', { style: css.who }, 'The timeline shows once the entry is saved.');
			const p = page.value;
			const kinds = p ? Object.entries(p.kinds) : [];
			const bar = h('div', { style: css.bar }, [
				h(
					'select',
					{ style: css.select, value: kind.value, onChange: (e: Event) => (kind.value = (e.target as HTMLSelectElement).value), 'aria-label': 'kind' },
					[h('option', { value: '' }, 'all kinds'), ...kinds.map(([k, n]) => h('option', { value: k }, `${k} (${n})`))],
				),
				h('button', { style: css.button, type: 'button', onClick: () => (order.value = order.value === 'desc' ? 'asc' : 'desc') }, order.value === 'desc' ? 'newest first' : 'oldest first'),
				p ? h('span', { style: css.who }, `${p.total === 0 ? 0 : offset.value + 1}–${Math.min(offset.value + PAGE, p.total)} of ${p.total}`) : null,
				h('button', { style: css.button, type: 'button', disabled: offset.value === 0, onClick: () => ((offset.value = Math.max(0, offset.value - PAGE)), load()) }, '‹'),
				h('button', { style: css.button, type: 'button', disabled: !p || offset.value + PAGE >= p.total, onClick: () => ((offset.value += PAGE), load()) }, '›'),
			]);
			if (error.value) return h('div', [bar, h('div', { style: 'color:var(--theme--danger,#e35169)' }, error.value)]);
			if (!p) return h('div', [bar, h('div', { style: css.who }, loading.value ? 'Loading…' : '')]);
			return h('div', { class: 'trm-timeline' }, [bar, ...(p.items.length ? p.items.map(row) : [h('div', { style: css.who }, 'Nothing recorded.')])]);
		};
	},
});

export default defineInterface({
	id: 'trm-entry-timeline',
	name: 'Entry timeline',
	icon: 'history',
	description: "What happened to the entry and what hangs off it, from Directus's activity (GET /trm/entries/:id/timeline).",
	component: Timeline,
	types: ['alias'],
	localTypes: ['presentation'],
	group: 'presentation',
	options: null,
});
