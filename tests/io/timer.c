/* tests for io/timer.c: ordering, cancel, re-arm, revolutions of the wheel, timeouts. */
#include "io/timer.h"

#include <criterion/criterion.h>
#include <stdlib.h>

struct item {
	struct io_timer t; /* first member: the test casts back */
	int id;
};

static struct io_wheel *wheel_new(uint64_t now)
{
	struct io_wheel *w = malloc(sizeof(*w));

	cr_assert_not_null(w);
	io_wheel_init(w, now);
	return w;
}

/* pops everything due and checks the ids come out as expected (n of them) */
static void expect_pops(struct io_wheel *w, const int *ids, size_t n)
{
	struct io_timer *t;
	size_t i = 0;

	while ((t = io_wheel_pop(w))) {
		cr_assert_lt(i, n, "timer %d fired unexpectedly", ((struct item *)t)->id);
		cr_assert_eq(((struct item *)t)->id, ids[i], "pop %zu", i);
		cr_assert_not(io_timer_armed(t));
		i++;
	}
	cr_assert_eq(i, n, "%zu timers fired, wanted %zu", i, n);
}

Test(io_timer, fires_in_order_of_expiry)
{
	struct item it[6] = {{.id = 50}, {.id = 10}, {.id = 30},
	                     {.id = 20}, {.id = 40}, {.id = 11}};
	uint64_t at[6] = {1050, 1010, 1030, 1020, 1040, 1010};
	struct io_wheel *w = wheel_new(1000);

	for (int i = 0; i < 6; i++)
		io_wheel_add(w, &it[i].t, at[i]);
	cr_assert_eq(w->count, 6);
	cr_assert_eq(io_wheel_advance(w, 1025), 3);
	expect_pops(w, (int[]){10, 11, 20}, 3); /* same tick: in the order added */
	cr_assert_eq(io_wheel_timeout_ms(w, 1025), 5);
	cr_assert_eq(io_wheel_advance(w, 1100), 3);
	expect_pops(w, (int[]){30, 40, 50}, 3);
	cr_assert_eq(w->count, 0);
	cr_assert_eq(io_wheel_timeout_ms(w, 1100), -1, "nothing armed: wait forever");
	free(w);
}

Test(io_timer, nothing_fires_early)
{
	struct item a = {.id = 1};
	struct io_wheel *w = wheel_new(0);

	io_wheel_add(w, &a.t, 500);
	for (uint64_t now = 1; now < 500; now += 7) {
		cr_assert_eq(io_wheel_advance(w, now), 0, "fired at %llu", (unsigned long long)now);
		cr_assert_null(io_wheel_pop(w));
	}
	cr_assert_eq(io_wheel_advance(w, 500), 1);
	expect_pops(w, (int[]){1}, 1);
	free(w);
}

Test(io_timer, cancel)
{
	struct item a = {.id = 1}, b = {.id = 2}, c = {.id = 3}, never = {.id = 4};
	struct io_wheel *w = wheel_new(0);

	io_wheel_add(w, &a.t, 10);
	io_wheel_add(w, &b.t, 10);
	io_wheel_add(w, &c.t, 20);
	io_wheel_cancel(w, &b.t);
	cr_assert_not(io_timer_armed(&b.t));
	io_wheel_cancel(w, &b.t);     /* twice: a no-op */
	io_wheel_cancel(w, &never.t); /* never armed: a no-op */
	cr_assert_eq(w->count, 2);
	cr_assert_eq(io_wheel_advance(w, 30), 2);
	io_wheel_cancel(w, &a.t); /* due but not popped yet: still cancellable */
	expect_pops(w, (int[]){3}, 1);
	cr_assert_eq(w->count, 0);
	cr_assert_eq(io_wheel_timeout_ms(w, 30), -1);
	free(w);
}

Test(io_timer, cancel_last_in_slot_clears_the_slot)
{
	struct item a = {.id = 1};
	struct io_wheel *w = wheel_new(0);

	io_wheel_add(w, &a.t, 100);
	cr_assert_eq(io_wheel_timeout_ms(w, 0), 100);
	io_wheel_cancel(w, &a.t);
	cr_assert_eq(io_wheel_timeout_ms(w, 0), -1);
	for (size_t i = 0; i < IO_WHEEL_SLOTS / 64; i++)
		cr_assert_eq(w->nonempty[i], 0, "slot bitmap word %zu left set", i);
	free(w);
}

Test(io_timer, rearm_moves_the_timer)
{
	struct item a = {.id = 1};
	struct io_wheel *w = wheel_new(0);

	io_wheel_add(w, &a.t, 10);
	io_wheel_add(w, &a.t, 300); /* an idle timeout pushed back by traffic */
	cr_assert_eq(w->count, 1);
	cr_assert_eq(io_wheel_advance(w, 299), 0);
	cr_assert_eq(io_wheel_advance(w, 300), 1);
	expect_pops(w, (int[]){1}, 1);
	free(w);
}

Test(io_timer, wraps_around_the_wheel)
{
	/* slot index wraps (4090 -> 4100 crosses slot 0) and timers many revolutions out stay put
	 * while the wheel passes their slot */
	struct item near = {.id = 1}, far = {.id = 2}, farther = {.id = 3};
	struct io_wheel *w = wheel_new(4090);

	io_wheel_add(w, &near.t, 4100);
	io_wheel_add(w, &far.t, 4100 + 2 * IO_WHEEL_SLOTS); /* same slot, two turns later */
	io_wheel_add(w, &farther.t, 4090 + 180000);         /* 3 minutes: RFC 3261 timer C */
	cr_assert_eq(io_wheel_advance(w, 4100), 1);
	expect_pops(w, (int[]){1}, 1);
	for (uint64_t now = 4100; now < 4100 + 2 * IO_WHEEL_SLOTS - 1; now += 1000) {
		cr_assert_eq(io_wheel_advance(w, now), 0, "early at %llu", (unsigned long long)now);
		cr_assert_gt(io_wheel_timeout_ms(w, now), 0);
	}
	cr_assert_eq(io_wheel_advance(w, 4100 + 2 * IO_WHEEL_SLOTS), 1);
	expect_pops(w, (int[]){2}, 1);
	cr_assert_eq(io_wheel_advance(w, 4090 + 179999), 0);
	cr_assert_eq(io_wheel_advance(w, 4090 + 180000), 1);
	expect_pops(w, (int[]){3}, 1);
	free(w);
}

Test(io_timer, long_sleep_fires_everything_due)
{
	struct item it[4] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}};
	struct io_wheel *w = wheel_new(0);

	io_wheel_add(w, &it[0].t, 5);
	io_wheel_add(w, &it[1].t, 3000);
	io_wheel_add(w, &it[2].t, 9000);
	io_wheel_add(w, &it[3].t, 30000);
	cr_assert_eq(io_wheel_advance(w, 20000), 3, "a jump of several revolutions");
	expect_pops(w, (int[]){0, 1, 2}, 3);
	cr_assert_eq(w->count, 1);
	cr_assert_eq(io_wheel_advance(w, 30000), 1);
	expect_pops(w, (int[]){3}, 1);
	free(w);
}

Test(io_timer, added_in_the_past_fires_at_the_next_advance)
{
	struct item a = {.id = 1}, b = {.id = 2};
	struct io_wheel *w = wheel_new(100);

	io_wheel_add(w, &a.t, 50);
	cr_assert_eq(io_wheel_timeout_ms(w, 100), 1);
	cr_assert_eq(io_wheel_advance(w, 101), 1);
	cr_assert_eq(io_wheel_timeout_ms(w, 101), 0, "expired but not popped");
	cr_assert_eq(io_wheel_pop(w), &a.t);
	io_wheel_add(w, &b.t, 101); /* a handler re-arming "now" does not fire in this pop loop */
	cr_assert_null(io_wheel_pop(w));
	cr_assert_eq(io_wheel_advance(w, 102), 1);
	expect_pops(w, (int[]){2}, 1);
	free(w);
}

Test(io_timer, clock_going_back_is_ignored)
{
	struct item a = {.id = 1};
	struct io_wheel *w = wheel_new(1000);

	io_wheel_add(w, &a.t, 1010);
	cr_assert_eq(io_wheel_advance(w, 500), 0);
	cr_assert_eq(w->now, 1000);
	cr_assert_eq(io_wheel_advance(w, 1010), 1);
	expect_pops(w, (int[]){1}, 1);
	free(w);
}

Test(io_timer, timeout_points_at_the_next_slot)
{
	struct item a = {.id = 1}, b = {.id = 2};
	struct io_wheel *w = wheel_new(0);

	io_wheel_add(w, &a.t, 3000);
	cr_assert_eq(io_wheel_timeout_ms(w, 0), 3000);
	cr_assert_eq(io_wheel_timeout_ms(w, 1000), 2000, "measured from the caller's now");
	io_wheel_add(w, &b.t, 70); /* another bitmap word, earlier */
	cr_assert_eq(io_wheel_timeout_ms(w, 0), 70);
	cr_assert_eq(io_wheel_advance(w, 3000), 2);
	expect_pops(w, (int[]){2, 1}, 2);
	free(w);
}
