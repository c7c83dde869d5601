/* io/timer: a hashed timer wheel (Varghese & Lauck, scheme 6) with 1 ms ticks.
 *
 * A timer is an intrusive node embedded in the connection or transaction it times (handshake,
 * idle, connect, transaction); the wheel never allocates. A timer due at tick T sits in slot
 * T mod IO_WHEEL_SLOTS; one revolution is 4.096 s and a longer timeout just stays in its slot
 * while the wheel passes it again. Add and cancel are O(1); advancing visits each elapsed tick
 * once (at most one revolution, however long the loop slept) and a bitmap skips empty slots.
 *
 * Use with one wait per loop pass:
 *   io_ring_submit_wait(r, 1, io_wheel_timeout_ms(w, now));
 *   io_wheel_advance(w, now_ms());
 *   while ((t = io_wheel_pop(w))) handle(container_of(t, ...));
 * Due timers leave in order of their tick (within a tick, in the order they were added). Timers
 * may be added and cancelled while popping: a timer added due now or earlier fires at the next
 * advance, so a handler that re-arms itself cannot spin.
 */
#ifndef SIPTLS_IO_TIMER_H
#define SIPTLS_IO_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IO_WHEEL_SLOTS 4096u /* a power of two */

/* a zeroed io_timer is valid and not armed */
struct io_timer {
	struct io_timer *next, *prev; /* NULL when not armed */
	uint64_t expires;             /* ms, the wheel's clock */
};

struct io_wheel {
	uint64_t now;                           /* the last tick advanced to, ms */
	size_t count;                           /* armed timers, popped ones excluded */
	struct io_timer slots[IO_WHEEL_SLOTS];  /* list heads (sentinels) */
	struct io_timer expired;                /* due, waiting for io_wheel_pop */
	uint64_t nonempty[IO_WHEEL_SLOTS / 64]; /* bit per slot with timers */
};

/* an empty wheel whose clock reads now_ms. */
void io_wheel_init(struct io_wheel *w, uint64_t now_ms);
/* arms t to fire at expires_ms (re-arms if it was armed). */
void io_wheel_add(struct io_wheel *w, struct io_timer *t, uint64_t expires_ms);
/* disarms t; a no-op when it is not armed (or already popped). */
void io_wheel_cancel(struct io_wheel *w, struct io_timer *t);
static inline bool io_timer_armed(const struct io_timer *t)
{
	return t->next != NULL;
}
/* moves the clock to now_ms and every timer due by then to the expired list; returns how many
 * it moved. A clock that went backwards is ignored. */
size_t io_wheel_advance(struct io_wheel *w, uint64_t now_ms);
/* the next expired timer (now disarmed), or NULL. */
struct io_timer *io_wheel_pop(struct io_wheel *w);
/* ms from now_ms until the wheel next needs advancing: 0 when timers have expired and not been
 * popped, -1 when no timer is armed. Never late; may be early for a timer a revolution away. */
int io_wheel_timeout_ms(const struct io_wheel *w, uint64_t now_ms);

#endif
