/* io/timer: hashed timer wheel, 1 ms ticks, intrusive doubly linked slot lists. */
#include "io/timer.h"

#include <string.h>

#define IO_WHEEL_MASK (IO_WHEEL_SLOTS - 1)

static void io_list_init(struct io_timer *head)
{
	head->next = head->prev = head;
}

static bool io_list_empty(const struct io_timer *head)
{
	return head->next == head;
}

static void io_list_append(struct io_timer *head, struct io_timer *t)
{
	t->prev = head->prev;
	t->next = head;
	head->prev->next = t;
	head->prev = t;
}

static void io_list_unlink(struct io_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

static void io_wheel_mark(struct io_wheel *w, size_t slot, bool on)
{
	uint64_t bit = (uint64_t)1 << (slot % 64);

	if (on)
		w->nonempty[slot / 64] |= bit;
	else
		w->nonempty[slot / 64] &= ~bit;
}

void io_wheel_init(struct io_wheel *w, uint64_t now_ms)
{
	memset(w->nonempty, 0, sizeof(w->nonempty));
	for (size_t i = 0; i < IO_WHEEL_SLOTS; i++)
		io_list_init(&w->slots[i]);
	io_list_init(&w->expired);
	w->now = now_ms;
	w->count = 0;
}

void io_wheel_cancel(struct io_wheel *w, struct io_timer *t)
{
	size_t slot = (size_t)(t->expires & IO_WHEEL_MASK);
	bool in_slot = t->expires > w->now;

	if (!io_timer_armed(t))
		return;
	/* invariant: a timer still in a slot is due after now (add and advance keep it so); one
	 * due by now sits on the expired list */
	io_list_unlink(t);
	w->count--;
	if (in_slot && io_list_empty(&w->slots[slot]))
		io_wheel_mark(w, slot, false);
}

void io_wheel_add(struct io_wheel *w, struct io_timer *t, uint64_t expires_ms)
{
	size_t slot;

	io_wheel_cancel(w, t);
	/* due already: the next tick, so it waits for the next advance instead of this pop loop */
	if (expires_ms <= w->now)
		expires_ms = w->now + 1;
	t->expires = expires_ms;
	slot = (size_t)(expires_ms & IO_WHEEL_MASK);
	io_list_append(&w->slots[slot], t);
	io_wheel_mark(w, slot, true);
	w->count++;
}

/* moves the due timers of one slot to the list to, keeping their order. */
static size_t io_wheel_expire_slot(struct io_wheel *w, size_t slot, uint64_t now,
                                   struct io_timer *to)
{
	struct io_timer *head = &w->slots[slot];
	struct io_timer *t = head->next;
	size_t moved = 0;

	while (t != head) {
		struct io_timer *next = t->next;

		if (t->expires <= now) {
			io_list_unlink(t);
			io_list_append(to, t);
			moved++;
		}
		t = next;
	}
	if (io_list_empty(head))
		io_wheel_mark(w, slot, false);
	return moved;
}

/* a stable merge sort by expiry of a NULL-terminated list linked through next; it recurses
 * log2(n) deep (under 64 for any n) NOLINTNEXTLINE(misc-no-recursion) */
static struct io_timer *io_timer_sort(struct io_timer *list, size_t n)
{
	struct io_timer *a = list, *b, *out = NULL, **tail = &out;
	size_t half = n / 2;

	if (n < 2)
		return list;
	for (size_t i = 1; i < half; i++)
		a = a->next;
	b = a->next;
	a->next = NULL;
	a = io_timer_sort(list, half);
	b = io_timer_sort(b, n - half);
	while (a && b) {
		struct io_timer **min = b->expires < a->expires ? &b : &a;

		*tail = *min;
		tail = &(*min)->next;
		*min = (*min)->next;
	}
	*tail = a ? a : b;
	return out;
}

/* appends the timers on list (moved by a jump of more than one revolution, so only ordered by
 * slot) to the expired list in order of expiry */
static void io_wheel_expire_sorted(struct io_wheel *w, struct io_timer *list, size_t n)
{
	struct io_timer *t;

	if (n == 0)
		return;
	list->prev->next = NULL;
	t = io_timer_sort(list->next, n);
	while (t) {
		struct io_timer *next = t->next;

		io_list_append(&w->expired, t);
		t = next;
	}
}

size_t io_wheel_advance(struct io_wheel *w, uint64_t now_ms)
{
	struct io_timer late, *to = &w->expired;
	uint64_t ticks, tick;
	size_t moved = 0;

	if (now_ms <= w->now)
		return 0;
	ticks = now_ms - w->now;
	/* one revolution visits every slot; after a longer sleep slot order is no longer expiry
	 * order, so those timers are gathered and sorted (rare: the loop stalled for seconds) */
	if (ticks > IO_WHEEL_SLOTS) {
		ticks = IO_WHEEL_SLOTS;
		io_list_init(&late);
		to = &late;
	}
	for (tick = now_ms - ticks + 1; tick <= now_ms; tick++) {
		size_t slot = (size_t)(tick & IO_WHEEL_MASK);

		if (w->nonempty[slot / 64] & ((uint64_t)1 << (slot % 64)))
			moved += io_wheel_expire_slot(w, slot, now_ms, to);
	}
	if (to == &late)
		io_wheel_expire_sorted(w, &late, moved);
	w->now = now_ms;
	return moved;
}

struct io_timer *io_wheel_pop(struct io_wheel *w)
{
	struct io_timer *t;

	if (io_list_empty(&w->expired))
		return NULL;
	t = w->expired.next;
	io_list_unlink(t);
	w->count--;
	return t;
}

/* ticks from w->now to the next slot with timers, scanning the bitmap word by word */
static uint64_t io_wheel_next_slot(const struct io_wheel *w)
{
	size_t start = (size_t)((w->now + 1) & IO_WHEEL_MASK);

	for (size_t k = 0; k <= IO_WHEEL_SLOTS / 64; k++) {
		size_t word = (start / 64 + k) % (IO_WHEEL_SLOTS / 64);
		uint64_t bits = w->nonempty[word];

		if (k == 0)
			bits &= ~(uint64_t)0 << (start % 64);
		else if (k == IO_WHEEL_SLOTS / 64)
			bits &= start % 64 ? ~(~(uint64_t)0 << (start % 64)) : 0;
		if (bits) {
			size_t slot = word * 64 + (size_t)__builtin_ctzll(bits);

			return ((slot - start) & IO_WHEEL_MASK) + 1;
		}
	}
	return IO_WHEEL_SLOTS;
}

int io_wheel_timeout_ms(const struct io_wheel *w, uint64_t now_ms)
{
	uint64_t due;

	if (!io_list_empty(&w->expired))
		return 0;
	if (w->count == 0)
		return -1;
	due = w->now + io_wheel_next_slot(w);
	return due <= now_ms ? 0 : (int)(due - now_ms);
}
